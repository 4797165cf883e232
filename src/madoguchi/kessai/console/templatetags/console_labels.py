import datetime

from django import template

from madoguchi.kessai.payments.ledger import JST

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
def jst(value: datetime.datetime | None) -> str:
    """Times are shown to people in JST, whatever the server's zone."""
    if value is None:
        return ""
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")
