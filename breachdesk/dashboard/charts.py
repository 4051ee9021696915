"""Chart geometry for server-rendered SVG. Pure: numbers in, coordinates out; the templates draw them."""

from dataclasses import dataclass

CAUSE_COLOURS = {
    "external_attack": "#b3261e",
    "internal_error": "#c77700",
    "lost_or_stolen_device": "#6b4fa0",
    "misdirected_email": "#1f6fb2",
    "subprocessor_incident": "#2e7d32",
    "other": "#5f6b7a",
    "unknown": "#9aa5b1",
}


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    median_width: float
    slowest_x: float
    limit_x: float | None
    late: bool
    text: str


def notify_bars(items: list[dict], width: float = 600, row: float = 26) -> tuple[list[Bar], float, float]:
    """Horizontal bars: median hours to notify, a whisker at the slowest, a tick at the deadline.
    Returns the bars, the hours the full width stands for, and the chart's height."""
    scale_hours = max([max(i["slowest"], i["limit"] or 0) for i in items], default=1) or 1
    per_hour = width / scale_hours
    bars = [
        Bar(
            i["label"],
            index * row,
            max(1.0, i["median"] * per_hour),
            i["slowest"] * per_hour,
            i["limit"] * per_hour if i["limit"] is not None else None,
            i["late"] > 0,
            f"median {i['median']:.1f} h, slowest {i['slowest']:.1f} h"
            + (f", deadline {i['limit']:.0f} h" if i["limit"] is not None else "")
            + (f", {i['late']} of {i['count']} late" if i["late"] else f", {i['count']} on time"),
        )
        for index, i in enumerate(items)
    ]
    return bars, scale_hours, max(row, len(items) * row)


@dataclass(frozen=True)
class Segment:
    cause: str
    y: float
    height: float
    colour: str
    count: int


@dataclass(frozen=True)
class Column:
    month: str
    x: float
    segments: list[Segment]
    total: int


def month_columns(months: list[dict], height: float = 160, column: float = 34) -> tuple[list[Column], int]:
    """Stacked columns of incidents per month by cause; returns the columns and the tallest total."""
    tallest = max([sum(m["causes"].values()) for m in months], default=1) or 1
    columns = []
    for index, month in enumerate(months):
        y = height
        segments = []
        for cause, count in sorted(month["causes"].items()):
            part = count * height / tallest
            y -= part
            segments.append(Segment(cause, y, part, CAUSE_COLOURS.get(cause, "#5f6b7a"), count))
        columns.append(Column(month["month"], index * column, segments, sum(month["causes"].values())))
    return columns, tallest
