"""Generic platform pieces both services use. Nothing here knows about
applications, payments or any other domain data."""
