"""Obligations derived for real incidents: roles, decisions, events, sends, and frozen terms."""

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from breachdesk.assessments.models import Assessment
from breachdesk.assessments.services import save_assessment
from breachdesk.auth.models import Role
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.deadlines import rules as rules_table
from breachdesk.deadlines import services
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.models import OVERDUE, Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.incidents import services as incidents
from breachdesk.incidents.queries import timeline
from breachdesk.inventory.importer import import_inventory
from tests.conftest import table_fingerprint
from tests.inventories import PROFILE, import_text, load

AWARE = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # the night before Paris falls back an hour


@pytest.fixture
def inventory(app):
    load()
    import_text(PROFILE)


def file(systems=("db",), aware=AWARE):
    incident = incidents.open_incident(
        {
            "title": "Exposed snapshot",
            "aware_at": aware.isoformat(),
            "systems": list(systems),
            "nature": ["confidentiality"],
        },
        None,
    )
    db.session.commit()
    return incident


def duties(incident) -> dict[tuple[str, str], Obligation]:
    return {(o.rule_id, o.recipient_key): o for o in services.obligations_of(incident.id)}


def test_processor_incident_owes_each_affected_customer_its_contract_hours(inventory):
    owed = duties(file())
    customers = {k[1]: o for k, o in owed.items() if k[0] == "gdpr-art33-2"}
    assert set(customers) == {"acme", "globex", "initech"}  # the customers the db system reaches
    assert customers["acme"].due_at == AWARE + timedelta(hours=24)
    assert customers["globex"].due_at == AWARE + timedelta(hours=48)  # 48 real hours across the DST change
    assert customers["initech"].due_at is None and customers["initech"].target_at == AWARE + timedelta(hours=36)
    assert all(o.customer_id is not None and o.source.startswith("GDPR Art. 33(2)") for o in customers.values())
    assert "gdpr-art33-1" not in {k[0] for k in owed}  # no controller activity reached: no authority duty
    # NIS2 duties stand until a person determines the incident is not significant; the clock runs from awareness
    assert owed[("nis2-art23-early-warning", "csirt")].due_at == AWARE + timedelta(hours=24)
    assert owed[("nis2-art23-final-report", "csirt")].due_at is None  # waits for the notification to be filed


def test_controller_incident_owes_the_authority_from_awareness_while_undecided(inventory):
    incident = file(systems=("crm",))
    owed = duties(incident)
    authority = owed[("gdpr-art33-1", "supervisory_authority")]
    assert authority.recipient == "CNIL" and authority.status == ObligationStatus.PENDING
    assert authority.clock_start == AWARE and authority.due_at == AWARE + timedelta(hours=72)
    assert authority.shown_status(AWARE + timedelta(hours=73)) == OVERDUE
    assert authority.shown_status(AWARE + timedelta(hours=71)) == "pending"
    subjects = owed[("gdpr-art34", "data_subjects")]
    assert subjects.clock_start is None and subjects.target_at is None  # no high risk established
    assert not any(k[0] == "gdpr-art33-2" for k in owed)


def test_not_required_needs_a_rationale_and_changes_nothing_without_one(inventory, privacy):
    incident = file(systems=("crm",))
    before = table_fingerprint()
    with pytest.raises(ValidationFailed, match="decision.rationale: required"):
        save_assessment(
            incident, {"dpc_category": "simple", "ei": 0.25, "decision": {"authority": "not_required"}}, privacy
        )
    db.session.rollback()
    assert table_fingerprint() == before


def test_a_decision_sets_the_authority_and_data_subject_duties(inventory, privacy):
    incident = file(systems=("crm",))
    decided_at = datetime.now(UTC)
    save_assessment(
        incident,
        {
            "dpc_category": "sensitive",
            "ei": 1,
            "cb": {"confidentiality": 0.5, "malicious": True},
            "decision": {"authority": "required", "data_subjects": "required"},
        },
        privacy,
    )
    db.session.commit()
    assessment = db.session.scalar(select(Assessment))
    assert (assessment.score, assessment.band) == ("5", "very high")
    owed = duties(incident)
    subjects = owed[("gdpr-art34", "data_subjects")]
    # deciding that the data subjects must be told establishes the high risk: Art. 34's target runs from then
    assert subjects.anchor == "high_risk_established" and subjects.clock_start >= decided_at - timedelta(seconds=1)
    assert subjects.target_at == subjects.clock_start + timedelta(hours=48)  # the organisation's target
    save_assessment(
        incident,
        {
            "dpc_category": "simple",
            "ei": 0.25,
            "decision": {
                "authority": "not_required",
                "data_subjects": "not_required",
                "rationale": "Only test accounts were in the export.",
            },
        },
        privacy,
    )
    db.session.commit()
    authority = duties(incident)[("gdpr-art33-1", "supervisory_authority")]
    assert authority.status == ObligationStatus.NOT_REQUIRED
    assert (authority.decided_by, authority.rationale) == ("dpo", "Only test accounts were in the export.")
    texts = [e["sentence"] for e in timeline(incident)]
    assert (
        "Risk assessed: severity 5 (very high); telling the supervisory authority required, "
        "telling the people affected required"
    ) in texts
    assert any(t.startswith("Recorded: high risk established, on ") for t in texts)
    assert "Duties worked out from the rules: 0 new, 2 changed, 0 withdrawn" in texts


def test_a_rules_table_change_does_not_move_an_existing_obligation(inventory, monkeypatch):
    incident = file()
    before = {k: (o.due_at, o.target_at) for k, o in duties(incident).items()}
    changed = tuple(
        replace(r, period=replace(r.period, amount=r.period.amount * 2)) for r in rules_table.shipped_rules()
    )
    monkeypatch.setattr(services, "shipped_rules", lambda: changed)
    incidents.update_incident(incident, {"title": "Exposed snapshot (confirmed)"}, None)
    db.session.commit()
    assert {k: (o.due_at, o.target_at) for k, o in duties(incident).items()} == before
    # the same change applies to a duty that arises afterwards
    later = file(systems=("db",))
    assert duties(later)[("nis2-art23-early-warning", "csirt")].due_at == AWARE + timedelta(hours=48)


def test_moving_awareness_moves_pending_deadlines_but_not_a_sent_ones_lateness(inventory, privacy):
    incident = file()
    owed = duties(incident)
    services.mark_sent(owed[("gdpr-art33-2", "acme")], AWARE + timedelta(hours=30), "msg-1")
    db.session.commit()
    sent = duties(incident)[("gdpr-art33-2", "acme")]
    assert sent.status == ObligationStatus.SENT and sent.late_by_seconds == 6 * 3600
    earlier = AWARE - timedelta(hours=10)
    incidents.update_incident(
        incident,
        {"aware_at": earlier.isoformat()},
        None,
        reason="the SIEM alert was acknowledged at 22:00 the day before",
    )
    db.session.commit()
    owed = duties(incident)
    assert owed[("gdpr-art33-2", "globex")].due_at == earlier + timedelta(hours=48)
    assert owed[("gdpr-art33-2", "acme")].late_by_seconds == 6 * 3600  # frozen at the first send
    assert owed[("gdpr-art33-2", "acme")].due_at == AWARE + timedelta(hours=24)


def test_two_sends_recorded_out_of_order_freeze_lateness_at_the_earlier(inventory):
    """Messages in flight together finish in any order: the first send is the earliest, not the first recorded."""
    acme = duties(file())[("gdpr-art33-2", "acme")]  # due 24 h after awareness
    services.mark_sent(acme, AWARE + timedelta(hours=26), "msg-2")
    services.mark_sent(acme, AWARE + timedelta(hours=25), "msg-1")
    services.mark_sent(acme, AWARE + timedelta(hours=27), "msg-3")
    assert (acme.sent_at, acme.late_by_seconds) == (AWARE + timedelta(hours=25), 3600)


def test_on_time_send_then_receipt(inventory):
    incident = file()
    acme = duties(incident)[("gdpr-art33-2", "acme")]
    with pytest.raises(DomainError, match="only a sent notice"):
        services.mark_acknowledged(acme, AWARE + timedelta(hours=2))
    services.mark_sent(acme, AWARE + timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="acknowledged_at: is before the notice was sent"):
        services.mark_acknowledged(acme, AWARE)
    services.mark_acknowledged(acme, AWARE + timedelta(hours=3))
    db.session.commit()
    acme = duties(incident)[("gdpr-art33-2", "acme")]
    assert acme.late_by_seconds == 0 and acme.status == ObligationStatus.ACKNOWLEDGED
    with pytest.raises(ValidationFailed, match="sent_at: is in the future"):
        services.mark_sent(duties(incident)[("gdpr-art33-2", "globex")], datetime.now(UTC) + timedelta(hours=1))


def test_a_filed_stage_starts_the_next_stages_clock(inventory, privacy):
    incident = file()
    notification = duties(incident)[("nis2-art23-notification", "csirt")]
    services.mark_sent(notification, AWARE + timedelta(hours=70))
    db.session.commit()
    final = duties(incident)[("nis2-art23-final-report", "csirt")]
    assert final.anchor == "stage_filed:nis2-art23-notification"
    # filed 27 October 2026 20:00 UTC: one month later ends at the end of 27 November in Brussels
    assert final.due_at == datetime(2026, 11, 27, 22, 59, 59, tzinfo=UTC)


def test_events_anchor_and_end_duties(inventory, privacy):
    incident = file()
    with pytest.raises(ValidationFailed) as refused:
        record_event(incident, {"kind": "not_significant", "at": "2026-10-25T09:00:00"}, privacy)
    assert refused.value.problems == [
        "note: required for a negative determination (who decided what, and why)",
        "at: a time zone is required (got a naive date-time 2026-10-25T09:00:00)",
    ]
    db.session.rollback()
    for bad, message in [
        ({"kind": "sunrise", "at": "2026-10-25T09:00:00Z"}, "kind: one of"),
        ({"kind": "stage_filed", "at": "2026-10-25T09:00:00Z"}, "stage: None is not a rule id"),
        (
            {"kind": "stage_filed", "stage": "nis2-art23-notification", "at": "2099-01-01T00:00:00Z"},
            "at: is in the future",
        ),
        ({"kind": "classified_major", "at": "2026-10-25T09:00:00Z", "colour": "red"}, "colour: unknown field"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            record_event(incident, bad, privacy)
        db.session.rollback()
    record_event(
        incident,
        {
            "kind": "not_significant",
            "at": "2026-10-25T09:00:00+01:00",
            "note": "Two test tenants only; no service disruption.",
        },
        privacy,
    )
    db.session.commit()
    early = duties(incident)[("nis2-art23-early-warning", "csirt")]
    assert early.status == ObligationStatus.NOT_REQUIRED and early.decided_by == "dpo"
    record_event(
        incident,
        {
            "kind": "significance_determined",
            "at": "2026-10-25T11:00:00+01:00",
            "note": "Revised: a third tenant is a hospital.",
        },
        privacy,
    )
    db.session.commit()
    assert duties(incident)[("nis2-art23-early-warning", "csirt")].status == ObligationStatus.PENDING


def test_changing_the_profile_rederives_open_incidents(inventory):
    incident = file()
    import_text(PROFILE.replace("regimes: [GDPR, NIS2]", "regimes: [GDPR]"))
    owed = duties(incident)
    nis2 = [o for k, o in owed.items() if k[0].startswith("nis2")]
    assert nis2 and all(o.status == ObligationStatus.NOT_REQUIRED and o.decided_by == "BreachDesk" for o in nis2)
    import_text(PROFILE)
    assert all(o.status == ObligationStatus.PENDING for k, o in duties(incident).items() if k[0].startswith("nis2"))


def test_a_customer_no_longer_affected_is_withdrawn_and_a_new_one_added(inventory):
    incident = file()
    data = b"customer,activity,data_subject_category,data_subjects,records\numbrella,directory,customer,5,5\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    incidents.update_incident(incident, {"systems": ["sms"]}, None)  # only the directory is reached now
    incidents.recompute_impact(incident)
    db.session.commit()
    owed = duties(incident)
    assert owed[("gdpr-art33-2", "umbrella")].status == ObligationStatus.PENDING
    initech = owed[("gdpr-art33-2", "initech")]
    # the rationale names the fact that changed
    assert initech.status == ObligationStatus.NOT_REQUIRED
    assert initech.rationale == "no longer owed: customer initech is no longer affected"


def test_without_a_profile_nothing_is_derived_and_the_page_says_so(app, login):
    load()
    incident = file()
    assert services.obligations_of(incident.id) == []
    page = login(Role.VIEWER).get(f"/incidents/{incident.id}")
    assert "No organisation profile: no duty can be derived" in page.text


def test_the_summary_counts_overdue_apart_from_pending(inventory):
    incident = file()
    summary = services.summary_of(incident.id, AWARE + timedelta(hours=30))
    owed = duties(incident)
    late = sum(1 for o in owed.values() if o.shown_status(AWARE + timedelta(hours=30)) == OVERDUE)
    assert summary[OVERDUE] == late > 0 and sum(summary.values()) == len(owed)


def test_a_late_major_classification_gives_a_dora_duty_due_after_it_flagged_with_why(app):
    load()
    import_text(
        PROFILE.replace("regimes: [GDPR, NIS2]", "regimes: [GDPR, NIS2, DORA]").replace(
            "entity_status: {NIS2: important}", "entity_status: {NIS2: important, DORA: credit institution}"
        )
    )
    incident = file()
    provisional = duties(incident)[("dora-initial", "regulator")]
    assert provisional.due_at == AWARE + timedelta(hours=24)
    assert "provisional: due 24 hours from awareness" in provisional.flag
    record_event(incident, {"kind": "classified_major", "at": (AWARE + timedelta(hours=30)).isoformat()}, None)
    db.session.commit()
    classified = duties(incident)[("dora-initial", "regulator")]
    assert (classified.anchor, classified.due_at) == ("classified_major", AWARE + timedelta(hours=34))
    assert "the classification as major came after the limit of 24 hours from awareness had run out" in classified.flag
