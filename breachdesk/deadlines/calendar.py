"""Deadline arithmetic on UTC instants. Pure: no Flask, no database.

How periods are counted follows Regulation (EEC, Euratom) No 1182/71 (periods, dates and time limits),
which the GDPR's deadlines use, and the regimes' own texts where they differ:
- hours: elapsed hours from the event; weekends and holidays count (Art. 3(3)); 72 h across a
  daylight-saving change is 72 real hours;
- days, business days and months: the day of the event is not counted (Art. 3(1)); the period ends at the
  end of its last day (Art. 3(2)(b)) in the regime's time zone; business days skip Saturdays, Sundays and
  the public holidays of the regime's country (the `holidays` package);
- months end on the same date of the last month, or on its last day when that date does not exist
  (Art. 3(2)(c)): one month from 31 January ends on 28 or 29 February;
- a regime may end its days earlier (`day_ends`: EDGAR dates a filing that business day only up to 17:30
  Eastern, Regulation S-T Rule 13(a)(2)), and may let a limit that falls on a weekend or holiday be met later
  (`weekend_rule`: DORA's noon of the next working day, Delegated Regulation (EU) 2025/301 Art. 5(4)). Nothing
  rolls unless its row says so: 1182/71 Art. 3(4) binds EU acts, not the national laws that carry most duties,
  so not rolling is the stricter reading.
"""

import calendar as month_lengths
import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from breachdesk.core.clock import require_aware

END_OF_DAY = time(23, 59, 59)
NOON = time(12, 0)
#: how a limit falling on a day that is not a working day may be met later; none: it may not
WEEKEND_RULES = {"noon_next_working_day"}


class Unit(enum.StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    MONTHS = "months"
    WITHOUT_UNDUE_DELAY = "without_undue_delay"  # no legal due time: an internal target instead


@dataclass(frozen=True)
class Period:
    amount: int
    unit: Unit
    #: ISO country (FR) or subdivision (US-VT) whose public holidays are skipped (business days only)
    holiday_country: str | None = None
    #: IANA zone in which days end
    time_zone: str = "UTC"
    #: the local time at which a counted day ends (days, business days, months)
    day_ends: time = END_OF_DAY
    #: a limit that falls on a weekend or holiday of holiday_country moves (WEEKEND_RULES); None: it does not
    weekend_rule: str | None = None
    #: the law says "immediately": still no legal due time, but a target of at most IMMEDIATELY_HOURS
    immediately: bool = False

    def describe(self) -> str:
        if self.unit == Unit.WITHOUT_UNDUE_DELAY:
            said = "immediately" if self.immediately else "without undue delay"
            return f"{said} (internal target {self.amount} hours)"
        words = {
            Unit.HOURS: "hour",
            Unit.CALENDAR_DAYS: "calendar day",
            Unit.MONTHS: "month",
            Unit.BUSINESS_DAYS: "business day",
        }
        plural = "" if self.amount == 1 else "s"
        holidays_note = f" ({self.holiday_country} holidays)" if self.unit == Unit.BUSINESS_DAYS else ""
        ends = "" if self.day_ends == END_OF_DAY else f" at {self.day_ends:%H:%M}"
        zone = "" if self.unit == Unit.HOURS else f", days ending{ends} in {self.time_zone}"
        rolls = "; on a weekend or holiday, by noon of the next working day" if self.weekend_rule else ""
        return f"{self.amount} {words[self.unit]}{plural}{holidays_note}{zone}{rolls}"


#: the longest internal target for a duty the law says is owed "immediately" (our reading: a day at most)
IMMEDIATELY_HOURS = 24


@cache
def _holidays(region: str, year: int) -> holidays.HolidayBase:
    """The public holidays of a country (FR) or of one of its subdivisions (US-VT: the federal and Vermont's)."""
    country, _, subdivision = region.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None, years=year)


def is_business_day(day: date, country: str | None) -> bool:
    if day.weekday() >= 5:
        return False
    return country is None or day not in _holidays(country, day.year)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_lengths.monthrange(year, month)[1]))


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """`moment` on `day` in `zone`, in UTC (a time that does not exist that day is read as after the change)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def due_at(clock_start: datetime, period: Period) -> datetime:
    """When the period ends, as an aware UTC instant. For "without undue delay" this is the internal target."""
    start = require_aware(clock_start, "clock_start")
    due = _limit(start, period)
    if period.weekend_rule is None:
        return due
    zone = ZoneInfo(period.time_zone)
    day = due.astimezone(zone).date()
    if is_business_day(day, period.holiday_country):
        return due
    while not is_business_day(day, period.holiday_country):
        day += timedelta(days=1)
    return _at(day, NOON, zone)


def _limit(start: datetime, period: Period) -> datetime:
    if period.unit in (Unit.HOURS, Unit.WITHOUT_UNDUE_DELAY):
        return start + timedelta(hours=period.amount)
    zone = ZoneInfo(period.time_zone)
    first_day = start.astimezone(zone).date()
    if period.unit == Unit.CALENDAR_DAYS:
        return _at(first_day + timedelta(days=period.amount), period.day_ends, zone)
    if period.unit == Unit.MONTHS:
        return _at(add_months(first_day, period.amount), period.day_ends, zone)
    day, counted = first_day, 0
    while counted < period.amount:
        day += timedelta(days=1)
        if is_business_day(day, period.holiday_country):
            counted += 1
    return _at(day, period.day_ends, zone)


#: where a HIPAA calendar year ends (45 CFR 164.408(c) names no zone: a doubt, see rules.yaml)
YEAR_END_ZONE = "America/New_York"


def year_end(instant: datetime, zone: str = YEAR_END_ZONE) -> datetime:
    """The last moment of the calendar year in which `instant` falls, in `zone`, as UTC."""
    local = require_aware(instant, "instant").astimezone(ZoneInfo(zone))
    return _at(date(local.year, 12, 31), END_OF_DAY, ZoneInfo(zone))
