"""LGPD duties derived for a real incident: Brazilian residents in our own data, the profile's status doubling the
periods, the declaration to the ANPD counted from the end of the data subjects' deadline (not from their notices),
and the complement from the filing of the first communication."""

import io
import textwrap
from datetime import UTC, datetime

import pytest
import time_machine

from breachdesk.auth.models import Role
from breachdesk.deadlines import services
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents import services as incidents
from breachdesk.inventory.importer import import_inventory
from tests.conftest import create_user

#: Friday 5 February 2027, 12:00 in Brasilia: Carnival (8-9 February) is counted
AWARE = datetime(2027, 2, 5, 15, 0, tzinfo=UTC)
INVENTORY = textwrap.dedent("""\
    format: breachdesk-inventory/1
    organisation:
      name: Sapatos Ltda
      country: BR
      regimes: [LGPD]
      entity_status: {LGPD: small-scale processing agent}
    systems:
      - {key: erp, name: ERP, hosting_country: BR}
    activities:
      - {key: payroll, name: Payroll, role: controller, systems: [erp],
         data_categories: [user.name, user.financial.bank_account], data_subject_categories: [employee]}
    """)
VOLUMES = "customer,activity,data_subject_category,region,data_subjects,records\n,payroll,employee,BR-SP,120,120\n"


@pytest.fixture(autouse=True)
def after_carnival():
    """Spring 2027, when the incident is past and its duties are still ahead or just behind."""
    with time_machine.travel(datetime(2027, 2, 20, 12, 0, tzinfo=UTC)):
        yield


@pytest.fixture
def inventory(app):
    data = VOLUMES.encode()
    import_inventory(("sapatos.yaml", INVENTORY), ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def lgpd_duties() -> dict[str, Obligation]:
    incident = incidents.open_incident(
        {"title": "Payroll export", "aware_at": AWARE.isoformat(), "systems": ["erp"], "nature": ["confidentiality"]},
        None,
    )
    db.session.commit()
    return {o.rule_id: o for o in services.obligations_of(incident.id)}


def test_a_small_agents_duties_are_doubled_and_the_declaration_counts_from_the_end_of_the_notice_deadline(inventory):
    owed = lgpd_duties()
    assert set(owed) == {"lgpd-art48", "lgpd-res15-art9", "lgpd-res15-art6-3", "lgpd-res15-art9-4"}
    notice = owed["lgpd-res15-art9"]
    # six business days from Friday 5 February: 8 and 9 (Carnival), 10, 11, 12, 15
    assert notice.due_at == utc("2027-02-15T23:59:59-03:00")
    assert notice.triggered_by == [
        "120 residents of Brazil (BR) affected",
        "data: financial data or purchase records (user.financial.bank_account)",
        "our status under LGPD: small-scale processing agent, so the period counts double",
    ]
    declaration = owed["lgpd-res15-art9-4"]
    assert declaration.anchor == "stage_due:lgpd-res15-art9" and declaration.clock_start == notice.due_at
    assert declaration.due_at == utc("2027-02-18T23:59:59-03:00")  # three business days, not doubled
    assert owed["lgpd-res15-art6-3"].due_at is None

    services.mark_sent(notice, AWARE)  # told the same day: the declaration still counts from the deadline's end
    db.session.commit()
    assert db.session.get(Obligation, declaration.id).due_at == utc("2027-02-18T23:59:59-03:00")


def test_filing_the_anpd_communication_starts_the_complements_forty_business_days(inventory):
    owed = lgpd_duties()
    privacy = create_user("dpo", Role.PRIVACY)
    filed = {"kind": "stage_filed", "stage": "lgpd-art48", "at": "2027-02-08T15:00:00Z", "reference": "ANPD-1"}
    record_event(owed["lgpd-art48"].incident, filed, privacy)
    db.session.commit()
    complement = db.session.get(Obligation, owed["lgpd-res15-art6-3"].id)
    assert complement.anchor == "stage_filed:lgpd-art48"
    assert complement.due_at == utc("2027-04-06T23:59:59-03:00")  # Good Friday (26 March) skipped


def test_the_duty_page_says_when_the_declarations_clock_starts(inventory, login):
    declaration = lgpd_duties()["lgpd-res15-art9-4"]
    page = login(Role.VIEWER).get(f"/obligations/{declaration.id}").get_data(as_text=True)
    assert "when the deadline of the LGPD communication to data subjects ends" in page
    assert "stage_due" not in page
