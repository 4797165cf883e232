"""Text as the citizen reads it: dates as 2026年12月1日 in Japanese and
1 December 2026 in English (month names from Django's own translations),
and the gap between two sentences (none in Japanese, a space in English)."""

import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

register = template.Library()

FORMATS = {
    "ja": ("Y年n月j日", "Y年n月j日 H:i"),
    "en": ("j F Y", "j F Y, H:i"),
}


def _format(value: datetime.date | None, *, with_time: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    formats = FORMATS.get((get_language() or "ja")[:2], FORMATS["ja"])
    return date_format(value, formats[1] if with_time else formats[0])


@register.filter
def citizen_date(value: datetime.date | None) -> str:
    return _format(value, with_time=False)


@register.filter
def citizen_datetime(value: datetime.date | None) -> str:
    return _format(value, with_time=True)


@register.simple_tag
def sentence_gap() -> str:
    """Put between two translated sentences: Japanese runs them together,
    English needs a space."""
    return "" if (get_language() or "ja").startswith("ja") else " "
