"""Issue 15's "done when": who must be told follows where the affected people live, what they lost and the
customer's status, and each duty shows the facts that triggered it. Real incidents on a small inventory; volume rows
with a region are written directly until the volumes file carries the column."""

import io
import textwrap
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.deadlines import services
from breachdesk.deadlines.models import ObligationStatus
from breachdesk.deadlines.rules import parse_rules, rule
from breachdesk.extensions import db
from breachdesk.incidents import services as incidents
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import Organisation, ProcessingActivity, Volume
from breachdesk.notices.rendering import default_source, render
from breachdesk.notices.services import Drafter, generate_notice, kind_for
from breachdesk.notices.statements import save_statement
from tests.conftest import create_user

INVENTORY = textwrap.dedent("""\
    format: breachdesk-inventory/1
    organisation:
      name: Parlons SAS
      country: FR
      lead_supervisory_authority: CNIL
      regimes: [GDPR, Texas, Colorado, Washington, HIPAA]
      entity_status: {HIPAA: business associate}
    customers:
      - {key: clinic, name: Lone Star Clinic, country: US, time_zone: America/Chicago, hipaa_covered_entity: true}
      - {key: bakery, name: Boulangerie Roux, country: FR}
    systems:
      - {key: accounts-db, name: Accounts database, hosting_country: FR}
      - {key: messaging-db, name: Messaging database, hosting_country: US}
    activities:
      - {key: accounts, name: Customer accounts, role: controller, systems: [accounts-db],
         data_categories: [user.name, user.government_id.national_identification_number, user.contact.email],
         data_subject_categories: [customer]}
      - {key: messaging, name: Messaging, role: processor, systems: [messaging-db],
         data_categories: [user.name, user.health_and_medical], data_subject_categories: [customer]}
    """)
# the volumes file names no region: our own customers live in France, each customer's people in its country
VOLUMES = (
    "customer,activity,data_subject_category,data_subjects,records\n"
    ",accounts,customer,1000,1000\n"
    "clinic,messaging,customer,50,50\n"
    "bakery,messaging,customer,80,80\n"
)
TEXAS_FACTS = (
    "data: first name or first initial and last name (user.name) with Social Security number "
    "(user.government_id.national_identification_number)"
)
US_RULES = {"us-co-6-1-716", "us-tx-521-053", "us-tx-521-053-i", "us-wa-19-255-010"}


@pytest.fixture
def inventory(app):
    data = VOLUMES.encode()
    import_inventory(("inventory.yaml", INVENTORY), ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()


def residents(region: str, people: int) -> None:
    """Our own customers living in `region`: a volume row of the accounts activity (none: remove it)."""
    accounts = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "accounts"))
    found = db.session.scalar(select(Volume).where(Volume.activity_id == accounts.id, Volume.region == region))
    if found is None:
        found = Volume(activity=accounts, data_subject_category="customer", region=region, records=0)
        db.session.add(found)
    found.data_subjects = found.records = people
    db.session.commit()


def file(systems=("accounts-db",), **extra):
    incident = incidents.open_incident(
        {"title": "Accounts export", "aware_at": "2026-06-01T15:00:00Z", "systems": list(systems), **extra}, None
    )
    db.session.commit()
    return incident


def duties(incident):
    return {(o.rule_id, o.recipient_key): o for o in services.obligations_of(incident.id)}


def test_a_controller_incident_whose_people_all_live_in_france_owes_no_us_duty(inventory):
    owed = duties(file())
    assert set(owed) == {("gdpr-art33-1", "supervisory_authority"), ("gdpr-art34", "data_subjects")}
    assert all(o.triggered_by == [] for o in owed.values())  # GDPR applies whenever we are the controller


def test_300_texans_whose_ids_leaked_with_their_names_are_owed_a_notice_and_the_attorney_general_too(
    inventory, client, login
):
    residents("US-TX", 300)
    owed = duties(file())
    assert {rule_id for rule_id, _ in owed} & US_RULES == {"us-tx-521-053", "us-tx-521-053-i"}
    notice = owed[("us-tx-521-053", "data_subjects")]
    assert notice.triggered_by == ["300 residents of Texas (US-TX) affected", TEXAS_FACTS]
    assert notice.flag == "" and notice.status == ObligationStatus.PENDING
    general = owed[("us-tx-521-053-i", "state_attorney_general")]
    assert general.recipient == "Office of the Texas Attorney General"
    assert general.triggered_by == ["300 residents of Texas (US-TX) affected (250 or more needed)", TEXAS_FACTS]
    assert "marks this rule unverified" in general.flag  # the research could not read SB 768's enacted text
    login(Role.VIEWER)
    page = client.get(f"/obligations/{general.id}").data.decode()
    assert "Why it applies" in page and "300 residents of Texas (US-TX) affected (250 or more needed)" in page
    assert "Social Security number (user.government_id.national_identification_number)" in page


@pytest.mark.parametrize("texans, attorney_general", [(249, False), (250, True)])
def test_the_attorney_general_is_told_from_250_texans_and_the_residents_from_one(inventory, texans, attorney_general):
    residents("US-TX", texans)
    owed = {rule_id for rule_id, _ in duties(file())}
    assert "us-tx-521-053" in owed
    assert ("us-tx-521-053-i" in owed) is attorney_general


def test_texans_whose_names_and_emails_only_leaked_are_owed_no_texas_notice(inventory):
    residents("US-TX", 300)
    owed = duties(file(data_categories=["user.name", "user.contact.email"]))
    assert not {rule_id for rule_id, _ in owed} & US_RULES


def test_a_processor_incident_owes_hipaa_notices_only_to_covered_entity_customers(inventory):
    owed = duties(file(systems=("messaging-db",)))
    states = {key for key in owed if rule(key[0]).group}
    assert set(owed) - states == {("gdpr-art33-2", "clinic"), ("gdpr-art33-2", "bakery"), ("hipaa-164-410", "clinic")}
    # the clinic's people live in the US, no state recorded: each state's duty to the data owner asks where
    assert states and {customer for _, customer in states} == {"clinic"}
    assert all(
        "whose region is not recorded" in owed[key].flag or "recorded as living in" in owed[key].flag for key in states
    )
    assert owed[("hipaa-164-410", "clinic")].triggered_by == [
        "Lone Star Clinic is a HIPAA covered entity (we signed a business associate agreement with it)"
    ]


def test_people_of_an_unknown_region_create_the_duty_flagged_with_the_question(inventory):
    residents("unknown", 400)
    owed = duties(file())
    texas = owed[("us-tx-521-053", "data_subjects")]
    assert texas.status == ObligationStatus.PENDING
    assert texas.triggered_by == [
        "0 residents of Texas (US-TX) recorded as affected",
        f"{TEXAS_FACTS}, lost by people not placed in a region",
    ]
    assert texas.flag == (
        "are there residents of Texas (US-TX) among the affected people? Recorded: 0; uncertain: 400 people whose "
        "region is not recorded"
    )
    # every state law whose residents they may be asks the same question; the threshold of the attorney general too
    assert US_RULES <= {rule_id for rule_id, _ in owed}
    assert (
        "are there 250 or more residents of Texas (US-TX)" in owed[("us-tx-521-053-i", "state_attorney_general")].flag
    )


def test_rederiving_withdraws_a_duty_saying_which_fact_changed_and_restores_it(inventory):
    residents("US-TX", 300)
    incident = file()
    residents("US-TX", 200)
    incidents.recompute_impact(incident)
    db.session.commit()
    owed = duties(incident)
    general = owed[("us-tx-521-053-i", "state_attorney_general")]
    assert general.status == ObligationStatus.NOT_REQUIRED and general.decided_by == "BreachDesk"
    assert general.rationale == "no longer owed: 200 residents of Texas (US-TX) affected, fewer than the 250 needed"
    assert owed[("us-tx-521-053", "data_subjects")].triggered_by[0] == "200 residents of Texas (US-TX) affected"
    residents("US-TX", 0)
    incidents.recompute_impact(incident)
    db.session.commit()
    notice = duties(incident)[("us-tx-521-053", "data_subjects")]
    assert notice.rationale == "no longer owed: no affected residents of Texas (US-TX)"
    residents("US-TX", 260)
    incidents.recompute_impact(incident)
    db.session.commit()
    owed = duties(incident)
    assert owed[("us-tx-521-053-i", "state_attorney_general")].status == ObligationStatus.PENDING
    assert owed[("us-tx-521-053", "data_subjects")].triggered_by[0] == "260 residents of Texas (US-TX) affected"


def test_the_texas_notices_count_and_describe_the_texans_only(inventory):
    residents("US-TX", 300)
    with time_machine.travel(datetime(2026, 6, 2, 10, 0, tzinfo=UTC), tick=False):
        incident = file(systems=("accounts-db", "messaging-db"))
        save_statement(
            incident,
            "en",
            {
                "what_happened": "An export of customer accounts was readable from the internet.",
                "individual_notice_status": "All 300 affected Texas residents were written to on 2 June.",
                "measures_taken": "Access closed.",
                "measures_proposed": "Audit of every export.",
                "other_authorities_notified": "No law enforcement agency is investigating.",
            },
        )
        owed = duties(incident)
        drafter = Drafter(incident)
        general = owed[("us-tx-521-053-i", "state_attorney_general")]
        # the English template, in which a French organisation writes to the attorney general
        text = render(default_source(general.rule_id, "en"), drafter.context(general, None, None)).text
    # 1,000 French customers and the clinic's patients are not the attorney general's business
    assert "300 Texas residents affected at the time of this notification." in text
    assert drafter.impact(owed[("us-tx-521-053", "data_subjects")])["people"] == 300
    assert drafter.impact(owed[("gdpr-art33-1", "supervisory_authority")])["people"] == 1300


def test_a_french_organisation_writes_to_texas_in_english_and_to_its_french_customers_in_french(inventory):
    residents("US-TX", 300)
    incident = file()
    for language, what in (("en", "Our customer accounts were exposed."), ("fr", "Nos comptes clients ont fuité.")):
        save_statement(incident, language, {"what_happened": what})
    author = create_user("dpo", Role.PRIVACY)
    written = {
        rule_id: generate_notice(o, author) for (rule_id, _), o in duties(incident).items() if rule_id in LANGUAGE_OF
    }
    db.session.commit()
    assert {rule_id: notice.language for rule_id, notice in written.items()} == LANGUAGE_OF
    assert "Our customer accounts were exposed." in written["us-tx-521-053-i"].text_body
    assert "Nos comptes clients ont fuité." in written["gdpr-art34"].text_body


#: the readers' languages for Parlons SAS (France): Texans and their attorney general read English, our own
#: customers in France read French (GDPR Art. 34)
LANGUAGE_OF = {"us-tx-521-053": "en", "us-tx-521-053-i": "en", "gdpr-art34": "fr"}


OWNER_NOTICE = {
    "id": "xx-tx-owner",
    "regime": "Texas",
    "stage": "notice to the data owner",
    "recipient_kind": "controller",
    "our_roles": ["processor"],
    "anchor": "awareness",
    "period": {"amount": 24, "unit": "without_undue_delay"},
    "condition": "always",
    "source": "a test row in the style of Tex. Bus. & Com. Code 521.053(c): the maintainer tells the owner",
    "applies_when": {"regions": ["US-TX"]},
}


def test_a_duty_to_a_customer_follows_where_its_people_live(inventory, monkeypatch):
    """No shipped row owes a customer a duty by region yet (the service-provider rows come next): one written here."""
    shipped = services.shipped_rules()
    monkeypatch.setattr(services, "shipped_rules", lambda: (*shipped, *parse_rules({"rules": [OWNER_NOTICE]})))
    incident = file(systems=("messaging-db",))
    owed = duties(incident)
    # the clinic's patients live in the United States, state not recorded; the bakery's in France
    assert ("xx-tx-owner", "bakery") not in owed
    clinic = owed[("xx-tx-owner", "clinic")]
    assert clinic.flag == (
        "are there residents of Texas (US-TX) among the affected people? Recorded: 0; uncertain: 50 people recorded "
        "as living in United States (US)"
    )
    messaging = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "messaging"))
    patients = db.session.scalar(select(Volume).where(Volume.activity_id == messaging.id, Volume.records == 50))
    patients.region = "US-TX"
    db.session.commit()
    incidents.recompute_impact(incident)
    db.session.commit()
    clinic = duties(incident)[("xx-tx-owner", "clinic")]
    assert clinic.flag == "" and clinic.triggered_by == ["50 residents of Texas (US-TX) affected"]


def test_the_us_state_group_in_the_profile_owes_vermonts_duties_written_by_the_shared_templates(
    inventory, client, login
):
    organisation = db.session.scalar(select(Organisation))
    organisation.regimes = ["GDPR", "US state laws"]
    db.session.commit()
    residents("US-VT", 300)
    incident = file()
    save_statement(incident, "en", {"what_happened": "An export of customer accounts was readable from the internet."})
    db.session.commit()
    owed = duties(incident)
    states = {rule(rule_id).regime for rule_id, _ in owed if rule(rule_id).group}
    assert states == {"Vermont"}  # no Texan, no Coloradan was affected
    assert {"us-vt-9-2435-b1", "us-vt-9-2435-b3-preliminary"} <= {rule_id for rule_id, _ in owed}
    preliminary = owed[("us-vt-9-2435-b3-preliminary", "state_attorney_general")]
    login(Role.VIEWER)
    page = client.get(f"/obligations/{preliminary.id}").data.decode()
    assert "Note on the rule" in page and "No threshold." in page
    residents_notice = owed[("us-vt-9-2435-b1", "data_subjects")]
    assert kind_for(residents_notice, "en") == "us-state-residents"
    text = render(
        default_source("us-state-residents", "en"),
        Drafter(residents_notice.incident).context(residents_notice, None, None, "en"),
    ).text
    assert all(item.label in text for item in rule("us-vt-9-2435-b1").content)
