"""``{% load display %}``: the one format per kind of madoguchi.platform.display."""

import datetime

from django import template

from madoguchi.platform import display

register = template.Library()


@register.filter
def grouped(value: int | None) -> str:
    return display.grouped(value)


@register.filter
def yen(value: int | None) -> str:
    return display.yen(value)


@register.filter
def day(value: datetime.date | None) -> str:
    return display.day(value)


@register.filter
def moment(value: datetime.datetime | None) -> str:
    return display.moment(value)


@register.filter
def moment_seconds(value: datetime.datetime | None) -> str:
    return display.moment(value, seconds=True)
