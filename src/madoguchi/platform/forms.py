"""Form fields shared by the staff and console filters."""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# Dates a filter can mean. Anything outside (0001-01-01, 9999-12-31) is a typo,
# and arithmetic on it (the next day, a month ago, a time zone) overflows.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)


class FilterDateField(forms.DateField):
    """A date typed into a filter: ``2026-12-01``, between 2000 and 2099,
    with messages that say how to write it."""

    default_error_messages = {
        "invalid": "日付は「2026-12-01」の形で入力してください。",
        "range": "日付は2000-01-01から2099-12-31までの間で入力してください。",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise ValidationError(self.error_messages["range"], code="range")


def month_in_range(month: datetime.date) -> bool:
    """A month a filter can mean (see EARLIEST_DATE and LATEST_DATE)."""
    return EARLIEST_DATE <= month <= LATEST_DATE
