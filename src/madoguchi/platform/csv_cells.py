"""One neutralising function for every CSV cell the system writes.

A spreadsheet reads a cell that starts with ``= + - @`` (or a tab or carriage
return, which some of them skip before looking) as a formula (OWASP "CSV
injection"). Excel with a Japanese IME also takes the full-width forms
``＝ ＋ － ＠`` as formula starters. Such a text cell gets a leading ``'`` so it
stays text; numbers are left alone (a negative amount is a number, not text).
"""

from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def csv_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell."""
    if not isinstance(value, str):
        return value
    # Leading spaces are skipped by some spreadsheets before the formula check.
    stripped = value.lstrip(" \u3000")
    if stripped[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_row(values: Any) -> list[Any]:
    return [csv_cell(v) for v in values]
