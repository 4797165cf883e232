from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    """600 -> "600円" in Japanese, "¥600" in English."""
    if value is None:
        return ""
    if (get_language() or "ja").startswith("en"):
        return f"¥{int(value):,}"
    return f"{int(value):,}円"
