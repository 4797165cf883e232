"""The counters behind lockouts and rate limits (in the cache: no hot row)."""

import os
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.platform.throttle import (
    throttle_blocked,
    throttle_clear,
    throttle_hit,
    throttle_hit_all,
    throttle_release,
)


def test_a_window_that_has_passed_starts_counting_again(clock: Any) -> None:
    window = timedelta(minutes=1)
    assert [throttle_hit("k", limit=2, window=window) for _ in range(3)] == [True, True, False]
    clock.advance(61)

    assert [throttle_hit("k", limit=2, window=window) for _ in range(3)] == [True, True, False]


def test_block_for_blocks_at_the_limit_until_it_ends(clock: Any) -> None:
    for _ in range(3):
        throttle_hit("b", limit=3, window=timedelta(minutes=30), block_for=timedelta(minutes=30))
    assert throttle_blocked("b")
    clock.advance(29 * 60)
    assert throttle_blocked("b")
    clock.advance(61)
    assert not throttle_blocked("b")


def test_clear_forgets_the_count_and_the_block() -> None:
    for _ in range(3):
        throttle_hit("c", limit=3, window=timedelta(minutes=30), block_for=timedelta(minutes=30))
    throttle_clear("c")

    assert not throttle_blocked("c")
    assert throttle_hit("c", limit=1, window=timedelta(minutes=30))


@pytest.mark.django_db
def test_counting_touches_no_database_table() -> None:
    with CaptureQueriesContext(connection) as queries:
        throttle_hit("q", limit=5, window=timedelta(minutes=1))
        throttle_blocked("q")
    assert len(queries) == 0


def test_concurrent_hits_lose_no_count() -> None:
    """20 threads at once against a limit of 10: exactly 10 get through (the
    row-based counter let about 13 through under this race)."""
    barrier = threading.Barrier(20)
    results: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        barrier.wait()
        allowed = throttle_hit("race", limit=10, window=timedelta(minutes=1))
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(True) == 10


LOCK: dict[str, Any] = {
    "limit": 3,
    "window": timedelta(minutes=30),
    "block_for": timedelta(minutes=30),
}


def test_a_block_that_has_been_served_starts_a_fresh_count(clock: Any) -> None:
    assert [throttle_hit("s", **LOCK) for _ in range(3)] == [True, True, True]
    assert throttle_blocked("s")
    clock.advance(30 * 60 + 2)

    assert not throttle_blocked("s")
    assert [throttle_hit("s", **LOCK) for _ in range(4)] == [True, True, True, False]


def test_release_gives_the_place_back_and_lifts_the_block_it_set() -> None:
    assert [throttle_hit("r", **LOCK) for _ in range(3)] == [True, True, True]
    assert throttle_blocked("r")
    throttle_release("r", limit=3)

    assert not throttle_blocked("r")
    assert throttle_hit("r", **LOCK)
    assert not throttle_hit("r", **LOCK)


def test_a_key_over_its_limit_takes_no_place_in_the_later_keys() -> None:
    for _ in range(3):
        throttle_hit("address", **LOCK)

    assert not throttle_hit_all(["address", "account"], **LOCK)
    assert [throttle_hit("account", **LOCK) for _ in range(4)] == [True, True, True, False]


def test_a_later_key_over_its_limit_gives_the_earlier_ones_their_place() -> None:
    for _ in range(3):
        throttle_hit("account2", **LOCK)
    throttle_clear("address2")

    assert not throttle_hit_all(["address2", "account2"], **LOCK)
    assert [throttle_hit("address2", **LOCK) for _ in range(4)] == [True, True, True, False]


def test_concurrent_events_on_two_keys_let_exactly_the_limit_through() -> None:
    """20 threads at once on an address and an account, limit 10: exactly 10
    are within both counts (counting both keys regardless let fewer through
    when two events each took one key's last place)."""
    barrier = threading.Barrier(20)
    results: list[bool] = []
    lock = threading.Lock()
    window = timedelta(minutes=30)

    def hit() -> None:
        barrier.wait()
        allowed = throttle_hit_all(
            ["pair:address", "pair:account"], limit=10, window=window, block_for=window
        )
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(True) == 10


@pytest.mark.skipif(
    not os.environ.get("MADOGUCHI_TEST_REDIS_URL"),
    reason="set MADOGUCHI_TEST_REDIS_URL to run against Redis",
)
def test_counts_are_atomic_on_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["MADOGUCHI_TEST_REDIS_URL"],
            "KEY_PREFIX": f"test-{os.getpid()}",
        }
    }
    caches["default"].clear()
    try:
        test_concurrent_hits_lose_no_count()
        test_clear_forgets_the_count_and_the_block()
        test_concurrent_events_on_two_keys_let_exactly_the_limit_through()
    finally:
        caches["default"].clear()


@pytest.mark.skipif(
    not os.environ.get("MADOGUCHI_TEST_REDIS_URL"),
    reason="set MADOGUCHI_TEST_REDIS_URL to run against Redis",
)
def test_a_redis_counter_lives_exactly_its_window(settings: Any) -> None:
    """The window's first event gives the counter the window's lifetime; the
    next events count without extending it; the count reads as an int."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["MADOGUCHI_TEST_REDIS_URL"],
            "KEY_PREFIX": f"test-ttl-{os.getpid()}",
        }
    }
    cache = caches["default"]
    cache.clear()
    redis = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    key = cache.make_and_validate_key("throttle:ttl")
    try:
        assert throttle_hit("ttl", limit=5, window=timedelta(seconds=90))
        assert redis.ttl(key) in (89, 90)
        redis.expire(key, 30)
        assert throttle_hit("ttl", limit=5, window=timedelta(seconds=90))
        assert redis.ttl(key) in (29, 30)
        assert cache.get("throttle:ttl") == 2
    finally:
        cache.clear()
