"""Every CSV the system writes goes through one neutralising function: a text
cell that a spreadsheet would read as a formula (``= + - @``, tab, CR, and the
full-width ``＝＋－＠`` that Excel with a Japanese IME also accepts) stays text."""

import pytest

from madoguchi.platform.csv_cells import csv_cell


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        "＝1+1",
        "＋1",
        "－1",
        "＠SUM(A1)",
        " =1+1",
        "\u3000＝1",
    ],
)
def test_formula_starters_are_made_text(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["住民票", "ABC-1", "2026-12-01", "", "a=b"])
def test_plain_text_is_left_alone(value: str) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-300, 0, 4321, None])
def test_numbers_stay_numbers(value: int | None) -> None:
    assert csv_cell(value) == value
