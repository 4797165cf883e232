from django import template

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    if value is None:
        return ""
    return f"{int(value):,}円"
