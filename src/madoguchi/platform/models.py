# The platform keeps no tables of its own: rate limits and lockouts count in
# the cache (throttle.py); migration 0002 drops the former counter table.
