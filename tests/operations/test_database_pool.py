"""Every pooled or persistent PostgreSQL connection is checked before a
request uses it, so one the server ended (a failover) is replaced instead of
failing the request (the end-to-end rehearsal: tests/e2e/test_database_outage.py)."""

from typing import Any

import pytest
from django.db.utils import ConnectionHandler
from psycopg_pool import ConnectionPool

from madoguchi.platform.conf import database_from_env

URL = "postgres://shinsei@db.example:5432/shinsei"


def test_the_pool_checks_each_connection_it_hands_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHINSEI_DATABASE_URL", URL)
    handler = ConnectionHandler({"default": database_from_env("shinsei")})
    wrapper: Any = handler["default"]  # PostgreSQL's DatabaseWrapper
    pools = type(wrapper)._connection_pools
    assert "default" not in pools  # the tests' own database has no pool
    try:
        pool = wrapper.pool
        assert pool is not None  # built closed: nothing connects here
        assert pool._check == ConnectionPool.check_connection
        # A refused connection is retried with a doubling delay for 5 s, then
        # at once when a request asks: no wait of many seconds past the return.
        assert pool.reconnect_timeout == 5.0
    finally:
        pools.pop("default", None)  # kept per alias on the class


def test_without_a_pool_the_persistent_connection_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHINSEI_DATABASE_URL", URL)
    monkeypatch.setenv("MADOGUCHI_DB_POOL_MAX_SIZE", "0")
    database = database_from_env("shinsei")
    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True
