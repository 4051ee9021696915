"""Every notice the demo can write reads in words of its reader's language (issue 14, "Done when").

On the demo inventory, with the organisation profile extended to every regime that ships a template, the demo
incident (processor side) and a controller-side one owe every duty of the rules table. Every notice is generated
through the services the pages use, in every language its template ships (the rule's own or the shared one it
names; the customers' own, French and English; the authority's by our country, French, then Irish), as a first
notice, a late one, a follow-up after the impact changed and a late follow-up. None shows a taxonomy key, a value
as the application keeps it (an enum value, a rule id, a statement's field) unless it is a word of its language, a
word of the incident's internal record (title, description, containment, notes), or, in French, the English word
of any value or an activity or system named in English in the inventory."""

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import time_machine
from babel import Locale
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from sqlalchemy import select

from breachdesk.assessments.enisa import BAND_LABELS
from breachdesk.assessments.models import DECISION_LABELS, EXEMPTION_LABELS, Decision, Exemption
from breachdesk.assessments.services import save_assessment
from breachdesk.auth.models import Role
from breachdesk.core.clock import now_utc
from breachdesk.core.i18n import Label
from breachdesk.deadlines.calendar import Unit
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import PER_CUSTOMER
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS, shipped_facts, shipped_rules
from breachdesk.demo.incident import demo_incident_data
from breachdesk.extensions import db
from breachdesk.incidents.models import CAUSE_LABELS, NATURE_LABELS, Cause, Incident, IncidentStatus, Nature
from breachdesk.incidents.services import add_note, open_incident, recompute_impact
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import (
    CONTACT_ROLE_LABELS,
    ContactRole,
    Customer,
    Language,
    LegalBasis,
    NoticeTerms,
    Organisation,
    OurRole,
    ProcessingActivity,
    System,
    Volume,
)
from breachdesk.inventory.services import save_entry, save_organisation, save_volume
from breachdesk.inventory.taxonomy import SENSITIVITY_LABELS
from breachdesk.notices.checklist import State
from breachdesk.notices.models import Notice, NoticeStatus, OutboxStatus
from breachdesk.notices.rendering import has_default, shared_templates, shipped_templates, template_kind
from breachdesk.notices.services import approve_notices, generate_notice, is_late, kind_for, language_for, rule_of
from breachdesk.notices.statements import facts_asked, rules_of, save_statement
from breachdesk.notices.words import CONTENT_ITEM, DATA_CATEGORY, DATA_SUBJECT, LEGAL_SOURCE, REGIME, STAGE
from tests.conftest import create_user
from tests.notices.reading import FIDES_KEY, appears, catalogue, prose, reads, without_addresses, words_of

LANGUAGES = ("en", "fr")
#: our country as the authorities read us: French, then one whose authority notices are in English
COUNTRIES = ("FR", "IE")
#: the enums whose values the application keeps and no notice shows as they are (their words, where they have
#: any, are below)
ENUMS = (
    IncidentStatus,
    Nature,
    Cause,
    Decision,
    Exemption,
    Language,
    NoticeTerms,
    ContactRole,
    OurRole,
    LegalBasis,
    NoticeStatus,
    OutboxStatus,
    Role,
    Unit,
    ObligationStatus,
    State,
)
#: what the privacy team writes when it applies: the reasons for a delay, what became known since a first notice
LATER = {
    "en": {
        "delay_reasons": "Establishing which messages were copied took longer than the deadline allowed: the "
        "provider's delivery records reached us only after it.",
        "newly_known": "The provider's delivery records now show which messages were copied.",
    },
    "fr": {
        "delay_reasons": "Établir quels messages avaient été copiés a pris plus de temps que le délai ne le "
        "permettait : les journaux de distribution du prestataire nous sont parvenus après son échéance.",
        "newly_known": "Les journaux de distribution du prestataire montrent désormais quels messages ont été copiés.",
    },
}
#: an answer to each part the demo's own duties do not ask for
ANSWER = {"en": "Answer {} for the reader.", "fr": "Réponse {} pour le lecteur."}
#: the controller-side incident's internal record, with words found nowhere else
OWN_BREACH = {
    "title": "Quillfeather: nightly CRM and payroll exports left on the Zorvath share",
    "description": "Marqueline spotted the Quillfeather exports on the old Zorvath intranet share, readable by "
    "every contractor account.",
    "containment": "Share Zorvath locked; Quillfeather job disabled pending review by Marqueline.",
    "systems": ["accounts-db", "crm", "accounting"],
    "nature": ["confidentiality", "integrity", "availability"],
    "cause": "internal_error",
    "encrypted": True,
    "key_compromised": False,
}
OWN_NOTE = "Marqueline checked the Zorvath access logs: 3 contractor downloads (Brindlewick VPN)."
#: the impact changes after the first notices: one French and one English customer, and our prospects
MORE_PEOPLE = (
    b"customer,activity,data_subject_category,data_subjects,records\n"
    b"maison-lemaire,conversations,customer,2410,38002\n"
    b"berliner-moebel,conversations,prospect,301,3120\n"
    b",prospects,prospect,6012,11530\n"
)


@dataclass(frozen=True)
class Written:
    """One notice as generated: what it is, and what its reader reads."""

    incident_id: int
    kind: str
    language: str
    sequence: int
    late: bool
    read: str

    @property
    def variant(self) -> tuple[str, str, str]:
        return (
            self.kind,
            self.language,
            ("follow-up" if self.sequence > 1 else "first") + (" late" if self.late else ""),
        )


@dataclass(frozen=True)
class Value:
    """A value as the application keeps it, and its words in each language (none for a value no notice names)."""

    kept: str
    words: dict[str, tuple[str, ...]]


# --- the values and their words, read from the labels, the catalogues and the taxonomy ---------------------------


def labelled(labels: dict) -> list[Value]:
    return [
        Value(str(value), {lang: (label.translated(lang),) for lang in LANGUAGES}) for value, label in labels.items()
    ]


def taxonomy_values() -> list[Value]:
    """Each Fides key with its words: the catalogue's in each language (as written in the .po files, whatever was
    compiled), and, in English, Fides's own name too (a French notice shows neither English; an English one shows
    the plain words)."""
    po = {language: catalogue(language) for language in LANGUAGES}
    found = []
    for context, entries in (
        (DATA_CATEGORY, DEFAULT_TAXONOMY.data_category),
        (DATA_SUBJECT, DEFAULT_TAXONOMY.data_subject),
    ):
        for entry in entries:
            words = {lang: (po[lang].get(entry.name, context=context).string,) for lang in LANGUAGES}
            words["en"] += (entry.name,)
            found.append(Value(entry.fides_key, words))
    return found


def rule_values() -> list[Value]:
    """Each rule's regime, stage, legal source and content items' labels with their words; its id, which has none."""
    found = [Value(row.id, {}) for row in shipped_rules()]
    for row in shipped_rules():
        words = [(REGIME, row.regime), (STAGE, row.stage), (LEGAL_SOURCE, row.source)]
        words += [(CONTENT_ITEM, item.label) for item in row.content]
        for context, english in words:
            found.append(Value(english, {lang: (Label(context, english).translated(lang),) for lang in LANGUAGES}))
    return found


@cache
def every_value() -> list[Value]:
    found = []
    for labels in (NATURE_LABELS, CAUSE_LABELS, BAND_LABELS, DECISION_LABELS, EXEMPTION_LABELS, CONTACT_ROLE_LABELS):
        found += labelled(labels)
    found += labelled(RECIPIENT_KIND_LABELS) + taxonomy_values() + rule_values()
    # a sensitivity class is a number: only its words can show
    found += [
        Value("", {lang: (label.translated(lang),) for lang in LANGUAGES}) for label in SENSITIVITY_LABELS.values()
    ]
    with_words = {value.kept for value in found}
    found += [Value(str(m.value), {}) for enum in ENUMS for m in enum if str(m.value) not in with_words]
    return found + [Value(fact, {}) for fact in shipped_facts()]


def statements(language: str) -> list[str]:
    """What the privacy team writes in a language, here: the demo's statement, what applies later, the answers."""
    parts = demo_incident_data()["statements"][language]
    return [*parts.values(), *LATER[language].values(), ANSWER[language]]


@cache
def written_in(language: str) -> str:
    """What a language writes anyway: its catalogue, its templates' prose, the statements written in it."""
    return " ".join([words_of(language), prose(language), *statements(language)])


@cache
def single_words_of(language: str) -> frozenset[str]:
    return frozenset(word.casefold() for word in re.findall(r"\w+", written_in(language)))


@cache
def french_uses(word: str) -> bool:
    return appears(word, written_in("fr"), ignore_case=True)


@cache
def words_of_values(language: str) -> re.Pattern:
    """Every value's words in a language, longest first: what is left of a notice without them is where a value
    could show as it is kept (the French word of UK GDPR, "RGPD britannique (UK GDPR)", holds GDPR rightly)."""
    words = {word for value in every_value() for word in value.words.get(language, ()) if word}
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)))


def shows_as_kept(value: Value, language: str, bare: str) -> bool:
    """The value shows as the application keeps it (in `bare`, the notice without the words of values), and that
    is not a word of the language: not its own word ("DORA", "notification" in French, "Patient"), nor, for a
    single word that names nothing or that an English reader reads ("customer", "sent", "en" in French), a word
    the language writes anyway."""
    if not value.kept or not appears(value.kept, bare):
        return False
    if any(appears(value.kept, word, ignore_case=True) for word in value.words.get(language, ())):
        return False
    plain = re.fullmatch(r"[A-Za-z]+", value.kept) is not None
    return not (plain and (language == "en" or not value.words) and value.kept.casefold() in single_words_of(language))


def english_in_french(value: Value, read: str) -> list[str]:
    """The English words of a value that a French notice shows, unless French uses the same word."""
    french = value.words.get("fr", ())
    return [
        word
        for word in value.words.get("en", ())
        if not any(appears(word, own, ignore_case=True) for own in french)
        and not french_uses(word)
        and appears(word, read, ignore_case=True)
    ]


def fides_names_in_english(value: Value, read: str) -> list[str]:
    """A Fides name where the English catalogue has plainer words ("User Contact Email" for "email address")."""
    plain, *fides = value.words.get("en", ("",))
    return [name for name in fides if name.casefold() != plain.casefold() and appears(name, read)]


def tokens(text: str) -> set[str]:
    return {word.casefold() for word in re.findall(r"[^\W\d_]{4,}", text)}


def internal_words(incident: Incident, told: str) -> set[str]:
    """The words of the incident's internal record (title, description, containment, notes) that its readers are
    told nowhere else: not in a statement, the templates, the catalogues or the inventory's names."""
    record = [incident.title, incident.description or "", incident.containment or ""]
    return tokens(" ".join(record + [note.text for note in incident.notes])) - tokens(told)


# --- the demo, owing every duty -----------------------------------------------------------------------------------


#: 00:00 on 13 May 2027 in India, the day Rule 7 of the DPDP Rules binds from
RULE_7_IN_FORCE = datetime(2027, 5, 12, 18, 30, tzinfo=UTC)
#: what the crisis committee determines for every incident: each determination a duty of the table waits for, and
#: the authority's request for NIS2's intermediate report
DETERMINED = (
    "significance_determined",
    "classified_major",
    "materiality_determined",
    "notifiable_assessed",
    "service_impact_determined",
    "client_impact_determined",
    "report_requested",
)


def owe_every_duty(demo: Incident, privacy) -> Incident:
    """Extend the profile to every regime that ships a template, file a controller-side incident beside the demo's,
    and record what starts every clock: the assessment's decisions, each determination, the stages filed."""
    organisation = db.session.get(Organisation, 1)
    save_organisation(
        {
            **profile(organisation),
            "regimes": sorted(
                {row.group or row.regime for row in shipped_rules() if has_default(template_kind(row, "en"), "en")}
            ),
            "authorities": {**organisation.authorities, "DORA": "Autorité de contrôle prudentiel et de résolution"},
            "entity_status": {
                **organisation.entity_status,
                "DORA": "établissement de paiement",
                "HIPAA": "covered entity",
            },
        }
    )
    live_abroad()
    recompute_impact(demo)
    own = open_incident(
        {
            **OWN_BREACH,
            "aware_at": demo.aware_at,
            "detected_at": demo.detected_at,
            "occurred_from": demo.occurred_from,
            "occurred_to": demo.occurred_to,
        },
        None,
    )
    add_note(own, OWN_NOTE, None)
    # fewer than 500 people: HIPAA's annual log instead of the Secretary's notice now
    times = ("aware_at", "detected_at", "occurred_from", "occurred_to")
    few = open_incident({**OWN_BREACH, "systems": ["accounting"], **{t: getattr(demo, t) for t in times}}, None)
    # India's Rule 7 binds breaches we became aware of from 13 May 2027, India time: one we learn of then
    shift = RULE_7_IN_FORCE - demo.aware_at
    with time_machine.travel(RULE_7_IN_FORCE, tick=False):
        later = open_incident({**OWN_BREACH, **{t: getattr(demo, t) + shift for t in times}}, None)
    for incident in (own, few, later):
        save_assessment(
            incident,
            {
                "dpc_category": "financial",
                "ei": 0.5,
                "decision": {"authority": "required", "data_subjects": "required"},
            },
            privacy,
        )
    now = now_utc()
    for incident in (demo, own, few, later):
        for kind in DETERMINED:
            record_event(incident, {"kind": kind, "at": now, "note": "Decided by the crisis committee."}, privacy)
        for stage in ("nis2-art23-notification", "dora-initial", "dora-intermediate", "sg-pdpa-26d", "lgpd-art48"):
            record_event(incident, {"kind": "stage_filed", "stage": stage, "at": now, "reference": "R-1"}, privacy)
    # still ongoing when its final report was due, then handled: NIS2's progress report and the later final report
    # (the others keep the usual final report)
    for kind in ("still_ongoing", "incident_handled"):
        record_event(few, {"kind": kind, "at": now, "note": "Decided by the crisis committee."}, privacy)
    db.session.commit()
    return [own, few, later]


#: our own data subjects living in US states, so that each state's rules apply (Texas: 700 residents, past its
#: attorney general's 250 and HIPAA's 500 of a State for the media; a name with credentials and bank details
#: together; Florida: past its department's 500 and its consumer reporting agencies' 1,001, whose notices the
#: shared templates write), in the United Kingdom (UK GDPR's communication to them), in Singapore (suppliers' names
#: with their bank details: prescribed data, so the PDPC and the individuals are told) and in Brazil, so that LGPD's
#: do (their credentials are authentication data, Res. CD/ANPD 15/2024 Art. 5); where each activity's people live
RESIDENTS_ABROAD = (
    ("staff-accounts", "employee", "US-TX", 600),
    ("suppliers", "supplier_vendor", "US-TX", 100),
    ("staff-accounts", "employee", "US-CO", 20),
    ("staff-accounts", "employee", "US-WA", 20),
    ("staff-accounts", "employee", "GB", 30),
    ("suppliers", "supplier_vendor", "SG", 12),
    ("staff-accounts", "employee", "BR-SP", 40),
    ("staff-accounts", "employee", "US-FL", 1200),
)

#: a French customer's people in the United Kingdom and in Singapore: its notices under UK GDPR and the PDPA, in
#: French; and a German one's in Singapore, told in English by contract hours (Lion City Florist's contract says
#: "without undue delay", which is never late)
CUSTOMERS_ABROAD = (
    b"customer,activity,data_subject_category,region,data_subjects,records\n"
    b"maison-lemaire,conversations,customer,GB,45,610\n"
    b"maison-lemaire,conversations,customer,SG,30,420\n"
    b"berliner-moebel,conversations,customer,SG,25,300\n"
)

#: the online shop accounts we keep for two customers (a login with its password: a US state's combination of data
#: elements), held in the accounts database the controller-side incident exposes, with their people in US states:
#: the service provider's notice to the data owner, in French for Vélos Montréal and in English for Harbor Coffee
SHOP_ACCOUNTS = {
    "key": "shop-accounts",
    "name": "Online shop accounts",
    "role": "processor",
    "legal_basis": "contract",
    "systems": ["accounts-db"],
    "data_categories": ["user.name", "user.contact.email", "user.authorization.password"],
    "data_subject_categories": ["customer"],
    "customers": ["montreal-velo", "harbor-coffee"],
}
SHOPPERS = (("montreal-velo", "US-FL", 40), ("harbor-coffee", "US-FL", 30))


def live_abroad() -> None:
    """US, UK, Singapore and Brazilian residents among our own data subjects: those regimes' duties to them (and the US
    states' and Singapore's to their authorities) apply only then. (The demo inventory has its covered entity, Lone
    Star Pediatrics, for HIPAA's business associate duty, and its customers in the UK and Singapore for the
    processor's duties; its customers' shoppers in Florida for the service provider's notice to the data owner.)"""
    save_entry("activities", SHOP_ACCOUNTS)
    for customer, region, people in SHOPPERS:
        save_volume(
            {
                "customer": customer,
                "activity": "shop-accounts",
                "data_subject_category": "customer",
                "region": region,
                "data_subjects": people,
                "records": people,
            }
        )
    for key, category, region, people in RESIDENTS_ABROAD:
        activity = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == key))
        db.session.add(
            Volume(
                activity=activity, data_subject_category=category, region=region, data_subjects=people, records=people
            )
        )
    assert db.session.scalar(select(Customer.key).where(Customer.hipaa_covered_entity)) == "lone-star-pediatrics"
    import_inventory(None, ("volumes.csv", io.BytesIO(CUSTOMERS_ABROAD), len(CUSTOMERS_ABROAD)))
    db.session.commit()


def profile(organisation: Organisation) -> dict:
    names = ("name", "country", "lead_supervisory_authority", "regimes", "authorities", "entity_status")
    return {
        **{name: getattr(organisation, name) for name in names},
        "undue_delay_target_hours": organisation.undue_delay_target_hours,
        "dpo_name": organisation.dpo_name,
        "dpo_email": organisation.dpo_email,
    }


def write_statements(incidents: list[Incident]) -> None:
    """The demo's statements, with what applies later and, for the regimes the demo does not owe, an answer to
    every other part the duties ask for, in each language."""
    demo_parts = demo_incident_data()["statements"]
    for incident in incidents:
        asked = facts_asked(rules_of(incident.id))
        for language in LANGUAGES:
            answers = {fact.id: ANSWER[language].format(n) for n, fact in enumerate(asked, start=1)}
            save_statement(incident, language, {**answers, **demo_parts[language], **LATER[language]})
    db.session.commit()


def set_country(country: str) -> None:
    save_organisation({**profile(db.session.get(Organisation, 1)), "country": country})
    db.session.commit()


def generate_every_notice(incidents: list[Incident], author, follow_up: bool) -> list[Written]:
    """Every duty's notice in its reader's language where its rule ships one (the page refuses the others): the
    customers' notices once, the authorities' and the data subjects' once per country of ours."""
    written = []
    for country in COUNTRIES:
        set_country(country)
        for obligation in duties(incidents):
            if country != COUNTRIES[0] and obligation.recipient_kind in PER_CUSTOMER:
                continue
            language = reader_language(obligation)
            if not has_default(kind_for(obligation, language), language):
                continue
            notice = generate_notice(obligation, author, follow_up=follow_up)
            db.session.commit()
            read = reads(notice.subject, notice.text_body, notice.html_body)
            late = is_late(obligation, now_utc())
            written.append(Written(notice.incident_id, notice.kind, notice.language, notice.sequence, late, read))
    return written


def duties(incidents: list[Incident]) -> list[Obligation]:
    return list(
        db.session.scalars(
            select(Obligation)
            .where(
                Obligation.incident_id.in_([i.id for i in incidents]),
                Obligation.status != ObligationStatus.NOT_REQUIRED,
            )
            .order_by(Obligation.id)
        )
    )


def reader_language(obligation: Obligation) -> str:
    customer = db.session.get(Customer, obligation.customer_id) if obligation.customer_id else None
    return language_for(customer, db.session.get(Organisation, 1), rule_of(obligation))


def every_demo_notice(demo: Incident) -> tuple[list[Incident], list[Written]]:
    author, approver = create_user("dpo", Role.PRIVACY), create_user("chief", Role.ADMIN)
    incidents = [demo, *owe_every_duty(demo, author)]
    write_statements(incidents)
    due = max(o.due_at for o in duties(incidents) if o.due_at)
    written = []
    with time_machine.travel(due + timedelta(days=1)):
        written += generate_every_notice(incidents, author, follow_up=False)
    written += generate_every_notice(incidents, author, follow_up=False)  # the drafts, on time again
    approve_notices(db.session.scalars(select(Notice).where(Notice.status == NoticeStatus.DRAFT)).all(), approver)
    db.session.commit()
    import_inventory(None, ("volumes.csv", io.BytesIO(MORE_PEOPLE), len(MORE_PEOPLE)))
    for incident in incidents:
        recompute_impact(incident)
    db.session.commit()
    written += generate_every_notice(incidents, author, follow_up=True)
    with time_machine.travel(due + timedelta(days=1)):
        written += generate_every_notice(incidents, author, follow_up=True)
    return incidents, written


# --- the test -----------------------------------------------------------------------------------------------------


def test_every_demo_notice_reads_in_words_of_its_readers_language(demo):
    incidents, written = every_demo_notice(demo)
    rendered = {notice.variant for notice in written}
    # "without undue delay" is never late; a shared template is late when one of its rules is
    timed = {kind for duty in duties(incidents) if duty.due_at for kind in (duty.rule_id, rule_of(duty).template)}
    for variant in ("first", "first late", "follow-up", "follow-up late"):
        lacking = {
            (kind, language)
            for kind, language in shipped_templates() + shared_templates()
            if (kind, language, variant) not in rendered and (kind in timed or "late" not in variant)
        }
        assert lacking == set(), (variant, sorted(lacking))
    assert {n.language for n in written if n.kind == "gdpr-art33-2" and n.late} == set(LANGUAGES)
    assert {n.language for n in written if n.sequence > 1 and "→" in n.read} == set(LANGUAGES)  # what changed
    assert any("Quillfeather" in incident.title for incident in incidents)

    values = every_value()
    told = " ".join(
        [
            written_in("en"),
            written_in("fr"),
            *db.session.scalars(select(Customer.name)),
            *(str(value) for value in profile(db.session.get(Organisation, 1)).values()),
            *(row.authority or "" for row in shipped_rules()),
        ]
    )
    internal = {incident.id: internal_words(incident, told) for incident in incidents}
    assert {"quillfeather", "zorvath", "marqueline", "brindlewick", "gitguardian", "webhook"} <= set().union(
        *internal.values()
    )
    english_names = [
        *db.session.scalars(select(ProcessingActivity.name)),
        *db.session.scalars(select(System.name)),
    ]
    countries = {code for code in db.session.scalars(select(Customer.country))} | set(COUNTRIES)
    problems = []
    for notice in written:
        problems += problems_of(notice, values, internal[notice.incident_id], english_names, countries)
    assert not problems, "\n".join(problems)


def problems_of(notice: Written, values: list[Value], internal: set[str], names: list[str], countries) -> list[str]:
    where = f"{notice.kind}.{notice.language} #{notice.sequence}{' late' if notice.late else ''}"
    read = without_addresses(notice.read)
    bare = words_of_values(notice.language).sub(" ", read)
    found = [f"{where}: taxonomy key {key}" for key in FIDES_KEY.findall(read)]
    found += [f"{where}: shows {value.kept!r}" for value in values if shows_as_kept(value, notice.language, bare)]
    found += [f"{where}: internal word {word!r}" for word in sorted(internal & tokens(read))]
    if notice.language == "en":
        for value in values:
            found += [f"{where}: Fides's name {name!r}" for name in fides_names_in_english(value, read)]
        return found
    for value in values:
        found += [f"{where}: English {word!r} for {value.kept!r}" for word in english_in_french(value, read)]
    found += [f"{where}: named in English {name!r}" for name in names if appears(name, read, ignore_case=True)]
    english, french = Locale("en").territories, Locale("fr").territories
    found += [
        f"{where}: English country {english[code]!r}"
        for code in countries
        if english[code] != french[code] and appears(english[code], read)
    ]
    return found
