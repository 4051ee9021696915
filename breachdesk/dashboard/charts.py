"""Chart geometry for the metrics page: numbers in, percentages of a row's width and sentences out. Each row is
an SVG as wide as the page (lengths in percent, set as attributes: the pages allow no inline style) beside
HTML text, so a chart fits any screen and its words keep the page's type size. Pure."""

from dataclasses import dataclass
from statistics import median

from breachdesk.deadlines.obligations import duration

#: a row of the time-to-notify chart spans this many times the time allowed, so the deadline's tick stands at
#: the same place on every row (DEADLINE_AT percent) and a send up to half as late again still fits
SPAN = 1.5
DEADLINE_AT = 100 / SPAN
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
    """One kind of duty: the median send as a bar, the slowest as a line, in percent of the row."""

    label: str
    median_pct: float
    slowest_pct: float
    late: bool
    text: str


def hours_in_words(hours: float) -> str:
    """A time allowed as the law states it: "24 h", "72 h", "30 days"."""
    if hours >= 96 and hours % 24 == 0:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} h"


def _allowed(limits: list[float], target: bool) -> str:
    """The time allowed: "a deadline of 72 h", or "internal targets of 24 h to 48 h" where contracts and
    calendars give duties of one kind different times."""
    low, high = round(min(limits)), round(max(limits))
    if low == high:
        return f"{'an internal target' if target else 'a deadline'} of {hours_in_words(low)}"
    return f"{'internal targets' if target else 'deadlines'} of {hours_in_words(low)} to {hours_in_words(high)}"


def notify_bar(label: str, sends: list[tuple[float, float]], target: bool) -> Bar:
    """One kind of duty from its sends, each (hours from the clock start to the send, hours it had): the
    median and the slowest share of the time allowed, and a sentence saying each figure and what it counts."""
    shares = sorted(taken / allowed if allowed > 0 else SPAN for taken, allowed in sends)
    taken = sorted(t for t, _ in sends)
    late = sum(1 for t, allowed in sends if t > allowed)
    text = (
        f"{len(sends)} sent; from the clock start, median {duration(median(taken) * 3600)}, slowest "
        f"{duration(taken[-1] * 3600)}, against {_allowed([a for _, a in sends], target)}; "
        + (f"{late} sent after its {'target' if target else 'deadline'}" if late else "all sent in time")
    )
    return Bar(label, min(median(shares) / SPAN, 1) * 100, min(shares[-1] / SPAN, 1) * 100, late > 0, text)


@dataclass(frozen=True)
class Segment:
    cause: str
    count: int
    colour: str
    x_pct: float
    width_pct: float


@dataclass(frozen=True)
class MonthRow:
    month: str
    total: int
    segments: list[Segment]


def last_months(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """(year, month) of this month and the `count - 1` before it, newest first."""
    return [(y, m + 1) for y, m in (divmod(year * 12 + month - 1 - back, 12) for back in range(count))]


def month_rows(months: list[tuple[str, dict[str, int]]], cause_words: dict[str, str]) -> list[MonthRow]:
    """Each month (its name, its incidents per cause key) as a bar of one segment per cause, in percent of the
    busiest month's count so that months compare; causes in the order of `cause_words`."""
    busiest = max((sum(causes.values()) for _, causes in months), default=0) or 1
    rows = []
    for name, causes in months:
        segments, x = [], 0.0
        for cause, words in cause_words.items():
            if causes.get(cause):
                width = causes[cause] * 100 / busiest
                segments.append(Segment(words, causes[cause], CAUSE_COLOURS[cause], x, width))
                x += width
        rows.append(MonthRow(name, sum(causes.values()), segments))
    return rows
