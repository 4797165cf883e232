"""The shared counters behind lockouts and rate limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from madoguchi.platform.models import Throttle
from madoguchi.platform.throttle import throttle_blocked, throttle_hit, throttle_sweep
from madoguchi.platform.worker import run_ready_tasks, schedule_due

pytestmark = pytest.mark.django_db


def test_a_window_that_has_passed_starts_counting_again() -> None:
    window = timedelta(minutes=1)
    assert [throttle_hit("k", limit=2, window=window) for _ in range(3)] == [True, True, False]
    Throttle.objects.update(window_start=timezone.now() - timedelta(minutes=2))

    assert throttle_hit("k", limit=2, window=window)
    assert Throttle.objects.get(key="k").count == 1


def test_block_for_blocks_at_the_limit_until_it_ends() -> None:
    for _ in range(3):
        throttle_hit("b", limit=3, window=timedelta(minutes=30), block_for=timedelta(minutes=30))
    assert throttle_blocked("b")
    Throttle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))
    assert not throttle_blocked("b")


def test_the_hourly_sweep_deletes_old_counters_but_not_live_blocks() -> None:
    old = timezone.now() - timedelta(days=2)
    Throttle.objects.create(key="old", window_start=old, count=3)
    Throttle.objects.create(
        key="blocked", window_start=old, count=10, blocked_until=timezone.now() + timedelta(hours=1)
    )
    Throttle.objects.create(key="fresh", window_start=timezone.now(), count=1)

    assert "madoguchi.platform.throttle.throttle_sweep" in schedule_due()
    run_ready_tasks()

    assert set(Throttle.objects.values_list("key", flat=True)) == {"blocked", "fresh"}
    assert throttle_sweep() == 0
