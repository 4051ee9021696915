"""Stages that follow what a person records on a real incident: an authority's request, an incident still ongoing
and then handled, DORA's updated intermediate reports, a clock that restarts at the latest filing, and a provision
in force only for breaches we became aware of from a given day."""

from datetime import UTC, datetime, timedelta

import time_machine

from breachdesk.deadlines import services
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.models import ObligationStatus
from breachdesk.extensions import db
from breachdesk.incidents import services as incidents
from tests.inventories import PROFILE, import_text, load

AWARE = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
WITH_DORA_AND_INDIA = (
    PROFILE.replace("regimes: [GDPR, NIS2]", "regimes: [GDPR, NIS2, DORA, India DPDP]")
    .replace("authorities: {NIS2: CERT-FR}", "authorities: {NIS2: CERT-FR, DORA: ACPR}")
    .replace("entity_status: {NIS2: important}", "entity_status: {NIS2: important, DORA: payment institution}")
)


def file(aware=AWARE, systems=("db",)):
    incident = incidents.open_incident(
        {"title": "Ransomware", "aware_at": aware.isoformat(), "systems": list(systems), "nature": ["availability"]},
        None,
    )
    db.session.commit()
    return incident


def duties(incident):
    return {(o.rule_id, o.recipient_key): o for o in services.obligations_of(incident.id)}


def record(incident, user, kind, at, **more):
    record_event(incident, {"kind": kind, "at": at.isoformat(), **more}, user)
    db.session.commit()


def test_an_authoritys_request_creates_the_intermediate_report_due_at_our_target_from_it(app, privacy):
    load()
    import_text(PROFILE)
    incident = file()
    assert ("nis2-art23-intermediate", "csirt") not in duties(incident)
    asked = AWARE + timedelta(days=3)
    record(incident, privacy, "report_requested", asked, note="CERT-FR asks for a status update by e-mail")
    intermediate = duties(incident)[("nis2-art23-intermediate", "csirt")]
    assert intermediate.status == ObligationStatus.PENDING and intermediate.recipient == "CERT-FR"
    assert intermediate.clock_start == asked and intermediate.target_at == asked + timedelta(hours=48)
    assert "check the request's deadline" in intermediate.flag


def test_an_incident_still_ongoing_swaps_the_final_report_for_a_progress_report_and_a_later_final(app, privacy):
    load()
    import_text(PROFILE)
    incident = file()
    record(incident, privacy, "stage_filed", AWARE + timedelta(hours=60), stage="nis2-art23-notification")
    record(incident, privacy, "still_ongoing", AWARE + timedelta(days=20), note="Systems still being restored")
    owed = duties(incident)
    final = owed[("nis2-art23-final-report", "csirt")]
    assert final.status == ObligationStatus.NOT_REQUIRED and final.rationale == "Systems still being restored"
    progress = owed[("nis2-art23-progress-report", "csirt")]
    assert progress.due_at == datetime(2026, 6, 6, 21, 59, 59, tzinfo=UTC)  # one month from the notification
    after = owed[("nis2-art23-final-after-handling", "csirt")]
    assert after.status == ObligationStatus.PENDING and after.due_at is None  # still being handled
    handled = AWARE + timedelta(days=50)
    record(incident, privacy, "incident_handled", handled)
    after = duties(incident)[("nis2-art23-final-after-handling", "csirt")]
    assert after.clock_start == handled and after.due_at == datetime(2026, 7, 23, 21, 59, 59, tzinfo=UTC)


def test_the_dora_final_report_moves_to_one_month_after_the_latest_intermediate_filing(app, privacy):
    load()
    import_text(WITH_DORA_AND_INDIA)
    incident = file()
    record(incident, privacy, "classified_major", AWARE + timedelta(hours=2), note="Payments down")
    record(incident, privacy, "stage_filed", AWARE + timedelta(hours=5), stage="dora-initial")
    first = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)
    record(incident, privacy, "stage_filed", first, stage="dora-intermediate", reference="ACPR-1")
    final = duties(incident)[("dora-final", "regulator")]
    assert final.anchor == "stage_filed_latest:dora-intermediate" and final.clock_start == first
    # one month ends on Saturday 6 June: met by noon on Monday 8th in Paris (Art. 5(4))
    assert final.due_at == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)
    update = datetime(2026, 5, 19, 10, 0, tzinfo=UTC)
    record(incident, privacy, "stage_filed", update, stage="dora-intermediate", reference="ACPR-2")
    owed = duties(incident)
    final = owed[("dora-final", "regulator")]
    assert final.clock_start == update and final.due_at == datetime(2026, 6, 19, 21, 59, 59, tzinfo=UTC)
    intermediate = owed[("dora-intermediate", "regulator")]
    assert intermediate.sent_at == first and intermediate.sent_reference == "ACPR-1"  # the first filing fulfils it


def test_clients_are_told_of_a_major_incident_affecting_their_financial_interests(app, privacy):
    load()
    import_text(WITH_DORA_AND_INDIA)
    incident = file()
    clients = duties(incident)[("dora-art19-3-clients", "clients")]
    assert clients.status == ObligationStatus.PENDING and clients.clock_start is None  # not yet classified
    classified = AWARE + timedelta(hours=2)
    record(incident, privacy, "classified_major", classified, note="Payments down")
    record(incident, privacy, "no_client_impact", classified, note="Only internal reporting was unavailable")
    clients = duties(incident)[("dora-art19-3-clients", "clients")]
    assert clients.status == ObligationStatus.NOT_REQUIRED and clients.decided_by == privacy.username
    record(incident, privacy, "client_impact_determined", classified + timedelta(hours=1), note="Card payments failed")
    clients = duties(incident)[("dora-art19-3-clients", "clients")]
    assert clients.status == ObligationStatus.PENDING and clients.target_at == classified + timedelta(hours=48)


def test_rule_7_duties_exist_only_for_a_breach_we_became_aware_of_from_13_may_2027_india_time(app):
    load()
    import_text(WITH_DORA_AND_INDIA)
    binds = datetime(2027, 5, 12, 18, 30, tzinfo=UTC)  # 00:00 on 13 May in India
    with time_machine.travel(binds + timedelta(days=2), tick=False):
        before, after = file(binds - timedelta(minutes=1), ("crm",)), file(binds, ("crm",))
        assert not {key[0] for key in duties(before)} & {"in-dpdp-rule7", "in-dpdp-rule7-1", "in-dpdp-rule7-2a"}
        owed = duties(after)
        assert {"in-dpdp-rule7", "in-dpdp-rule7-1", "in-dpdp-rule7-2a"} <= {key[0] for key in owed}
        board = owed[("in-dpdp-rule7", "supervisory_authority")]
        assert board.due_at == binds + timedelta(hours=72)
        assert board.triggered_by == [
            "we became aware on 2027-05-13 00:00 (Asia/Kolkata): it binds from 13 May 2027 (Asia/Kolkata)"
        ]
        # awareness moved back before the day: the duty is withdrawn, saying why
        incidents.update_incident(after, {"aware_at": (binds - timedelta(hours=1)).isoformat()}, None, "log read again")
        db.session.commit()
        board = duties(after)[("in-dpdp-rule7", "supervisory_authority")]
        assert board.status == ObligationStatus.NOT_REQUIRED
        assert "binds breaches we became aware of from 13 May 2027" in board.rationale
