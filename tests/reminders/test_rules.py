"""The reminder windows: once per window, the current window only after downtime, escalation once overdue."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.reminders.rules import ESCALATION, REMINDER, AlertDue, alert_due, parse_offsets

DUE = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
OFFSETS = parse_offsets("12h,4h,1h")


@pytest.mark.parametrize(
    "before, expected",
    [
        (timedelta(hours=13), None),
        (timedelta(hours=12), AlertDue(REMINDER, 720)),
        (timedelta(hours=5), AlertDue(REMINDER, 720)),
        (timedelta(hours=4), AlertDue(REMINDER, 240)),
        (timedelta(hours=1, minutes=1), AlertDue(REMINDER, 240)),
        (timedelta(minutes=59), AlertDue(REMINDER, 60)),
        (timedelta(seconds=1), AlertDue(REMINDER, 60)),
        (timedelta(0), AlertDue(ESCALATION, 0)),
        (-timedelta(days=3), AlertDue(ESCALATION, 0)),
    ],
)
def test_each_moment_falls_in_one_window(before, expected):
    assert alert_due(DUE, DUE - before, OFFSETS) == expected


@given(before=st.timedeltas(-timedelta(days=2), timedelta(days=2)))
def test_never_a_reminder_once_the_deadline_passed_and_never_a_wider_window_than_needed(before):
    alert = alert_due(DUE, DUE - before, OFFSETS)
    if before <= timedelta(0):
        assert alert == AlertDue(ESCALATION, 0)
    elif alert is not None:
        assert alert.kind == REMINDER and before <= timedelta(minutes=alert.offset_minutes)
        assert all(before > o for o in OFFSETS if o < timedelta(minutes=alert.offset_minutes))


def test_offsets_are_parsed_and_checked():
    assert parse_offsets("1h, 30m,12h,1h") == (timedelta(hours=12), timedelta(hours=1), timedelta(minutes=30))
    for bad in ("", "12", "0h", "4d", "h"):
        with pytest.raises(ValueError, match="REMINDER_OFFSETS"):
            parse_offsets(bad)
