"""Periodic sweep: payment history past its retention period is deleted."""

from madoguchi.kessai.merchants.lifecycle import history_purge_due


def history_sweep() -> int:
    return len(history_purge_due())
