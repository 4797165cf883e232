"""Server-rendered charts: geometry computed here, drawn as inline SVG by the
templates (presentation attributes only, styled by classes: strict CSP)."""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 8
PAD_BOTTOM = 28
PAD_TOP = 20  # room for the value written above the tallest bar
# Axis labels are centred on their point: the first and last need half a
# label's width inside the picture, or the browser clips them.
LINE_PAD_X = 24


def compact_yen(value: int) -> str:
    """A bar's value short enough to sit above it: 9,800円, 12.3万円, 1.2億円."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 100_000_000:
        return f"{sign}{value / 100_000_000:.1f}億円".replace(".0億", "億")
    if value >= 10_000:
        return f"{sign}{value / 10_000:.1f}万円".replace(".0万", "万")
    return f"{sign}{value:,}円"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2

    @property
    def value_text(self) -> str:
        return compact_yen(self.value)

    @property
    def value_y(self) -> float:
        return round(self.y - 5, 1)


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    baseline: float


def bar_chart(items: Sequence[tuple[str, int]]) -> BarChart:
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    top = max([value for _, value in items] + [1])
    slot = (WIDTH - PAD_LEFT) / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        height = plot * max(value, 0) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(PAD_LEFT + index * slot + slot * 0.15, 1),
                y=round(PAD_TOP + plot - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
            )
        )
    return BarChart(bars=bars, width=WIDTH, height=HEIGHT, baseline=HEIGHT - PAD_BOTTOM)


@dataclass(frozen=True)
class Point:
    label: str
    value: int
    x: float
    y: float


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class LineChart:
    series: list[Series]
    ticks: list[Point]  # x-axis labels (a few, so they do not overlap)
    width: int
    height: int
    zero_y: float


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]]
) -> LineChart:
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    values = [v for _, _, vs in series for v in vs]
    top = max([*values, 1])
    bottom = min([*values, 0])
    span = top - bottom or 1
    step = (WIDTH - LINE_PAD_X * 2) / max(len(labels) - 1, 1)

    def y(value: int) -> float:
        return round(PAD_TOP + plot * (top - value) / span, 1)

    drawn = [
        Series(
            name=name,
            css_class=css_class,
            points=[
                Point(label=label, value=value, x=round(LINE_PAD_X + i * step, 1), y=y(value))
                for i, (label, value) in enumerate(zip(labels, values_, strict=True))
            ],
        )
        for name, css_class, values_ in series
    ]
    every = max(len(labels) // 6, 1)
    last = len(labels) - 1
    ticks = [
        Point(label=label, value=0, x=round(LINE_PAD_X + i * step, 1), y=HEIGHT - 8)
        for i, label in enumerate(labels)
        # The last day is always labelled; a tick just before it would collide.
        if i == last or (i % every == 0 and last - i >= every / 2)
    ]
    return LineChart(series=drawn, ticks=ticks, width=WIDTH, height=HEIGHT, zero_y=y(0))
