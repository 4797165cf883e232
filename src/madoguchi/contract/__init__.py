"""Contract v1: the only domain code Shinsei and Kessai share.

Reading this package tells the whole conversation between the services:
``schemas`` is what crosses the wire, ``signing`` how notifications are
authenticated, ``client`` how Shinsei calls Kessai's merchant API.
"""
