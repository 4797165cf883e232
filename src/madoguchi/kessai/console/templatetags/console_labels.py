import datetime

from django import template

from madoguchi.platform import display

from .. import selectors

register = template.Library()


@register.filter
def method_label(value: str | None) -> str:
    return selectors.method_label(value or "")


@register.filter
def status_label(value: str | None) -> str:
    return selectors.status_label(value or "")


@register.filter
def attempt_label(value: str | None) -> str:
    return selectors.attempt_label(value or "")


@register.filter
def reason_label(value: str | None) -> str:
    return selectors.reason_label(value or "")


@register.filter
def event_label(value: str | None) -> str:
    return selectors.event_label(value or "")


@register.filter
def notification_label(value: str | None) -> str:
    return selectors.notification_label(value or "")


@register.filter
def refund_status_label(value: str | None) -> str:
    return selectors.refund_status_label(value or "")


@register.filter
def origin_label(value: str | None) -> str:
    return selectors.ORIGIN_LABELS.get(value or "", value or "—")


@register.filter
def jst(value: datetime.datetime | None) -> str:
    """Times are shown to people in JST, whatever the server's zone, as on
    every screen of both services (madoguchi.platform.display)."""
    return display.moment(value)


@register.filter
def jst_seconds(value: datetime.datetime | None) -> str:
    """For a payment's timeline, where several steps fall within a minute."""
    return display.moment(value, seconds=True)
