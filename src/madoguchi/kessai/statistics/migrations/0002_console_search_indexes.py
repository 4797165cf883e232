"""Indexes for the console's transaction search on the payments table.

The payment model belongs to the payments app; these indexes serve only the
console's search (by 整理番号, and by date range on received/paid time), so
they live with the console's statistics and are plain SQL that both SQLite
and PostgreSQL accept.
"""

from django.db import migrations

INDEXES = {
    "kessai_payment_reference_idx": "reference",
    "kessai_payment_created_at_idx": "created_at",
    "kessai_payment_paid_at_idx": "paid_at",
}


class Migration(migrations.Migration):
    dependencies = [
        ("kessai_statistics", "0001_fee_rate"),
        ("kessai_payments", "0002_dailysummary"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX {name} ON kessai_payment ({column})",
            reverse_sql=f"DROP INDEX {name}",
        )
        for name, column in INDEXES.items()
    ]
