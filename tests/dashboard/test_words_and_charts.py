"""The dashboard's pure parts: how a time, a time left, a duty and a month read; the metrics' geometry."""

from datetime import UTC, datetime, timedelta

import pytest

from breachdesk.dashboard import charts, words
from breachdesk.deadlines.obligations import remaining

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_time_reads_once_on_the_viewers_clock_with_utc_kept_for_its_title():
    autumn = words.shown(datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "Europe/Paris", NOW)
    assert autumn == words.Shown("Sun 25 Oct, 00:00 CEST", "24 Oct 2026, 22:00 UTC", "2026-10-24T22:00:00+00:00")
    assert words.shown(datetime(2027, 1, 2, 8, 5, tzinfo=UTC), "America/Sao_Paulo", NOW).text == (
        "Sat 2 Jan 2027, 05:05 UTC-03:00"
    )
    assert words.shown(NOW, "UTC", NOW).text == "Fri 20 Nov, 09:00 UTC"


@pytest.mark.parametrize(
    ("offset", "target", "said"),
    [
        (timedelta(hours=3, minutes=20), False, "in 3 h 20 min"),
        (timedelta(0), False, "in 0 min"),
        (-timedelta(days=1, hours=2), False, "overdue by 1 d 2 h"),
        (timedelta(hours=6), True, "in 6 h 0 min"),
        (-timedelta(minutes=5), True, "target passed by 5 min"),
    ],
)
def test_time_left_says_overdue_for_a_deadline_and_passed_for_a_target(offset, target, said):
    assert remaining(NOW + offset, NOW, target) == said


def test_duties_recipient_kinds_and_months_are_words():
    assert words.duty_in_words("NIS2", "early warning", "CERT-FR") == "NIS2 early warning to CERT-FR"
    assert words.recipient_kind_in_words("csirt") == "national CSIRT (computer security incident response team)"
    assert words.recipient_kind_in_words("supervisory_authority") == "supervisory authority"
    assert words.duty_kind_in_words("GDPR", "notification", "controller") == "GDPR notification to the controller"
    assert words.duty_kind_in_words("GDPR", "communication", "data_subjects", undue_delay=True) == (
        'GDPR communication to the data subjects, "without undue delay"'
    )
    assert [words.month_name(2026, m) for m in (1, 10)] == ["January 2026", "October 2026"]


def test_a_kind_of_duty_is_drawn_against_the_time_it_had():
    bar = charts.notify_bar("GDPR notification to the controller", [(6, 24), (12, 24), (30, 24)], target=False)
    assert bar.median_pct == pytest.approx(12 / 24 / charts.SPAN * 100)
    assert bar.slowest_pct == pytest.approx(30 / 24 / charts.SPAN * 100) and bar.late
    assert bar.text == (
        "3 sent; from the clock start, median 12 h 0 min, slowest 1 d 6 h, against a deadline of 24 h; "
        "1 sent after its deadline"
    )
    far = charts.notify_bar("x", [(100, 24)], target=True)
    assert far.slowest_pct == far.median_pct == 100  # past the row's end: the sentence gives the figure
    assert far.text.endswith("against an internal target of 24 h; 1 sent after its target")
    mixed = charts.notify_bar("x", [(1, 24), (2, 48)], target=False)
    assert "against deadlines of 24 h to 48 h; all sent in time" in mixed.text and not mixed.late
    assert charts.hours_in_words(720) == "30 days" and charts.hours_in_words(72) == "72 h"


def test_months_stack_their_causes_in_proportion_to_the_busiest_month():
    causes = {"external_attack": "external attack", "internal_error": "internal error", "unknown": "not known"}
    rows = charts.month_rows(
        [("November 2026", {"internal_error": 1, "external_attack": 3}), ("October 2026", {}), ("May", {"unknown": 2})],
        causes,
    )
    busy, empty, may = rows
    assert (busy.month, busy.total, empty.total, empty.segments) == ("November 2026", 4, 0, [])
    assert [(s.cause, s.count, s.x_pct, s.width_pct) for s in busy.segments] == [
        ("external attack", 3, 0, 75),
        ("internal error", 1, 75, 25),
    ]
    assert may.segments[0].width_pct == 50 and may.segments[0].colour == charts.CAUSE_COLOURS["unknown"]
