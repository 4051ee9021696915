"""Who is owed a notice, by which rule. Pure: the facts come in, the planned obligations go out.

Our role decides first: as processor we owe every affected controller (Art. 33(2), no risk test); as
controller we owe the authority unless the breach is unlikely to result in a risk (Art. 33(1)) and the data
subjects when the risk is high (Art. 34), as a person decided. Other regimes come from the rules table,
limited to those the organisation profile names, and to the recipients whose affected people meet the row's
`applies_when` (deadlines.applicability: where they live, how many, what they lost, the customer's status).
Something the profile or the inventory cannot resolve becomes an obligation flagged for a person, never silence.
"""

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from breachdesk.deadlines.applicability import APPLIES, Population, Verdict, assess, assess_region, by_region
from breachdesk.deadlines.calendar import Unit, due_at
from breachdesk.deadlines.rules import (
    CONDITION_WORDS,
    DEFAULT_UNDUE_DELAY_TARGET_HOURS,
    DETERMINATIONS,
    LEAD_AUTHORITY,
    NEGATION,
    OCCURRENCES,
    ROLES,
    AppliesWhen,
    Rule,
    Terms,
)
from breachdesk.inventory.regions import UNKNOWN, region_name


class ObligationStatus(enum.StrEnum):
    """Stored states. Overdue is not stored: it is a pending obligation whose due_at has passed."""

    PENDING = "pending"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    NOT_REQUIRED = "not_required"


#: recipient kinds owed once per affected customer (we process their data)
PER_CUSTOMER = {"controller", "covered_entity"}
#: recipient kinds that are not an authority to name: everyone we serve whom the incident concerns, told at once
#: (NIS2 Art. 23(1): the recipients of our services; DORA Art. 19(3): the clients whose financial interests suffer)
PEOPLE_WE_SERVE = {
    "service_recipients": "recipients of our services",
    "clients": "clients whose financial interests are affected",
}
NOT_SET = ("", "none")


@dataclass(frozen=True)
class Profile:
    name: str
    regimes: tuple[str, ...]
    lead_supervisory_authority: str = ""
    authorities: dict[str, str] = field(default_factory=dict)
    entity_status: dict[str, str] = field(default_factory=dict)
    undue_delay_target_hours: int = DEFAULT_UNDUE_DELAY_TARGET_HOURS
    #: ISO country of the organisation (whose holidays a `holiday_country: organisation` row counts)
    country: str = ""


@dataclass(frozen=True)
class AffectedCustomer:
    key: str
    name: str
    customer_id: int | None
    #: the contract's notice term in hours; contractual=False makes it our target for "without undue delay"
    notice_hours: int
    contractual: bool = True
    #: the regulated statuses the inventory records for it (rules.CUSTOMER_STATUSES)
    statuses: frozenset[str] = frozenset()
    #: where its affected people live, and what they lost
    regions: Population = field(default_factory=dict)


@dataclass(frozen=True)
class Ruling:
    """A person's answer on whether a duty exists, with who gave it and why."""

    required: bool | None  # None: undecided
    decided_by: str = ""
    rationale: str = ""


@dataclass(frozen=True)
class Facts:
    #: our roles in what the incident reached (processor, controller)
    roles: frozenset[str]
    customers: tuple[AffectedCustomer, ...]
    #: per condition (unless_unlikely_risk, high_risk, significant, ...): the ruling so far
    rulings: dict[str, Ruling]
    public_communication: bool = False  # Art. 34(3)(c): disproportionate effort
    #: where the people of our controller-side data live, and what they lost
    own_regions: Population = field(default_factory=dict)
    #: when we became aware: a row in force only from a later day owes nothing (`Rule.in_force_from`)
    aware_at: datetime | None = None


@dataclass
class Planned:
    rule: Rule
    recipient_key: str
    recipient: str
    terms: Terms
    customer_id: int | None = None
    required: bool = True
    decided_by: str = ""
    rationale: str = ""
    flag: str = ""
    #: why the rule applies to this recipient (its `applies_when` against the impact)
    verdict: Verdict = APPLIES
    #: our entity status under the regime when it doubled the period (`doubled_for`), else ""
    doubled_for: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.rule.id, self.recipient_key

    @property
    def triggered_by(self) -> list[str]:
        return self.triggered_under(self.terms)

    def triggered_under(self, terms: Terms) -> list[str]:
        """The facts that made it apply, and our status when it doubled the period of the terms the duty is held to
        (terms frozen before the status was stated were not doubled)."""
        doubled = self.doubled_for and terms.period == self.terms.period
        status = f"our status under {self.rule.regime}: {self.doubled_for}, so the period counts double"
        return [*self.verdict.facts, *([status] if doubled else [])]


def named(rule: Rule, profile: Profile) -> bool:
    """The profile names the rule's regime, or its group ("US state laws": every state's regime at once, so that
    forgetting one state cannot lose its duties)."""
    return rule.regime in profile.regimes or (rule.group is not None and rule.group in profile.regimes)


def _naming(rule: Rule, profile: Profile) -> str:
    """How the profile names the rule's regime: itself, or its group (Georgia through "US state laws")."""
    return rule.regime if rule.regime in profile.regimes else f"{rule.group} (so {rule.regime})"


def applies(rule: Rule, profile: Profile, roles: frozenset[str]) -> bool:
    if not named(rule, profile):
        return False
    if ROLES <= set(rule.our_roles):
        return True  # the regime binds us whatever we do with personal data (NIS2, DORA, SEC)
    return bool(set(rule.our_roles) & roles)


def customers_residence_matters(rules: tuple[Rule, ...], profile: Profile) -> bool:
    """Whether a duty owed to a customer, under a regime of the profile, depends on where its people live or what
    they lost (its status is read anyway)."""
    return any(
        named(rule, profile)
        and rule.recipient_kind in PER_CUSTOMER
        and rule.applies_when is not None
        and _about_people(rule.applies_when)
        for rule in rules
    )


def _about_people(when: AppliesWhen) -> bool:
    """Whether the test reads where people live or what they lost, in itself or in one of its alternatives."""
    return bool(when.regions or when.data_elements) or any(_about_people(a) for a in when.any_of)


def authority_of(rule: Rule, profile: Profile) -> str:
    """The receiving authority, or "" when nobody has named it."""
    named = profile.authorities.get(rule.regime, "").strip()
    if named:
        return named
    if rule.authority == LEAD_AUTHORITY:
        return profile.lead_supervisory_authority.strip()
    return (rule.authority or "").strip()


def _ruling(rule: Rule, facts: Facts) -> Ruling | None:
    """A person's answer for the whole condition: a part ruled out decides it; all parts ruled in make it owed;
    otherwise it is undecided and the duty stands. None: something the duty needs has not happened (no request
    recorded), so there is no duty at all."""
    parts = []
    for condition in rule.conditions:
        name = condition.removeprefix(NEGATION)
        ruling = Ruling(True) if condition == "always" else facts.rulings.get(name, Ruling(None))
        if name in OCCURRENCES and ruling.required is None:
            if condition == name:
                return None
            ruling = Ruling(True)  # "not ongoing" holds until someone records that it is
        elif condition != name and ruling.required is not None:
            ruling = Ruling(not ruling.required, ruling.decided_by, ruling.rationale)
        parts.append(ruling)
    refused = next((part for part in parts if part.required is False), None)
    if refused:
        return refused
    if all(part.required for part in parts):
        return Ruling(True, _joined(p.decided_by for p in parts), _joined(p.rationale for p in parts))
    return Ruling(None)


def _joined(texts) -> str:
    return ", ".join(dict.fromkeys(text for text in texts if text))


def in_force(rule: Rule, facts: Facts) -> bool:
    return facts.aware_at is None or rule.binds(facts.aware_at)


def plan(rules: tuple[Rule, ...], profile: Profile, facts: Facts) -> list[Planned]:
    planned: list[Planned] = []
    for rule in rules:
        if not applies(rule, profile, facts.roles) or _other_status(rule, profile) or not in_force(rule, facts):
            continue
        ruling = _ruling(rule, facts)
        if ruling is None:
            continue
        status = profile.entity_status.get(rule.regime, "").strip()
        common = {
            "required": ruling.required is not False,
            "decided_by": ruling.decided_by,
            "rationale": ruling.rationale,
            "doubled_for": status if rule.doubles_for(status) else "",
        }
        planned += _duties(rule, profile, facts, common)
    return planned


def _duties(rule: Rule, profile: Profile, facts: Facts, common: dict) -> list[Planned]:
    """The rule's duties to each recipient it applies to, with the day it came into force among their facts."""
    flags = _flags(rule, profile)
    if rule.recipient_kind in PER_CUSTOMER:
        duties = _to_customers(rule, profile, facts, flags, common)
    elif rule.applies_when and rule.applies_when.per_region:
        duties = _per_region(rule, profile, facts, flags, common)
    else:
        duties = _to_one(rule, profile, facts, flags, common)
    if rule.in_force_from and facts.aware_at:
        since = _in_force_words(rule, facts.aware_at)
        for duty in duties:
            duty.verdict = replace(duty.verdict, facts=(*duty.verdict.facts, since))
    return duties


def _in_force_words(rule: Rule, aware_at: datetime) -> str:
    """The fact that the row binds this breach: we became aware on or after the day it came into force."""
    since = rule.in_force_from
    local = aware_at.astimezone(ZoneInfo(since.time_zone))
    return f"we became aware on {local:%Y-%m-%d %H:%M} ({since.time_zone}): it binds from {since.describe()}"


def _other_status(rule: Rule, profile: Profile) -> str:
    """Our entity status under the regime when the profile states one the rule does not bind, else ''."""
    status = " ".join(profile.entity_status.get(rule.regime, "").lower().split())
    return status if rule.entity_statuses and status not in NOT_SET and status not in rule.entity_statuses else ""


def _flags(rule: Rule, profile: Profile) -> list[str]:
    flags = []
    if rule.entity_status and profile.entity_status.get(rule.regime, "").strip().lower() in NOT_SET:
        flags.append(
            f"the organisation profile names {_naming(rule, profile)} but not our entity status under it: "
            "confirm that the regime applies"
        )
    if rule.unverified:
        flags.append(f"the rules table marks this rule unverified ({rule.unverified}): check its source")
    return flags


def _to_customers(rule: Rule, profile: Profile, facts: Facts, flags: list[str], common: dict) -> list[Planned]:
    planned = []
    for customer in facts.customers:
        verdict = assess(rule.applies_when, customer.regions, customer.statuses, customer.name)
        if not verdict.applies:
            continue
        terms = rule.terms(
            customer.notice_hours,
            customer.contractual,
            profile.undue_delay_target_hours,
            profile.country,
            profile.entity_status.get(rule.regime),
        )
        flag = "; ".join([*flags, *verdict.questions])
        planned.append(
            Planned(
                rule, customer.key, customer.name, terms, customer.customer_id, flag=flag, **common, verdict=verdict
            )
        )
    return planned


def _our_terms(rule: Rule, profile: Profile) -> Terms:
    return rule.terms(
        undue_delay_target_hours=profile.undue_delay_target_hours,
        organisation_country=profile.country,
        entity_status=profile.entity_status.get(rule.regime),
    )


def _to_one(rule: Rule, profile: Profile, facts: Facts, flags: list[str], common: dict) -> list[Planned]:
    verdict = assess(rule.applies_when, facts.own_regions, None, profile.name)
    if not verdict.applies:
        return []
    recipient = _recipient(rule, profile, facts, flags)
    flag = "; ".join([*flags, *verdict.questions])
    return [
        Planned(rule, rule.recipient_kind, recipient, _our_terms(rule, profile), flag=flag, **common, verdict=verdict)
    ]


def _per_region(rule: Rule, profile: Profile, facts: Facts, flags: list[str], common: dict) -> list[Planned]:
    """One duty for each subdivision with enough residents (and one, flagged, for people whose subdivision is not
    recorded when they could be enough): HIPAA's media notice per State."""
    planned = []
    for region, population in sorted(by_region(rule.applies_when, facts.own_regions).items()):
        verdict = assess_region(rule.applies_when, region, population, profile.name)
        if not verdict.applies:
            continue
        where = "a subdivision not recorded" if region == UNKNOWN else region_name(region)
        recipient = f"{_recipient(rule, profile, facts, flags)} serving {where}"
        flag = "; ".join([*flags, *verdict.questions])
        key = f"{rule.recipient_kind}:{region}"
        planned.append(Planned(rule, key, recipient, _our_terms(rule, profile), flag=flag, **common, verdict=verdict))
    return planned


def _recipient(rule: Rule, profile: Profile, facts: Facts, flags: list[str]) -> str:
    """Who receives a duty that is not a customer's; an authority nobody named adds a flag."""
    if rule.recipient_kind == "data_subjects":
        if facts.public_communication and rule.condition == "high_risk":
            return "the public (Art. 34(3)(c): individual notice would involve disproportionate effort)"
        return "data subjects"
    if rule.recipient_kind in PEOPLE_WE_SERVE:
        return PEOPLE_WE_SERVE[rule.recipient_kind]
    recipient = authority_of(rule, profile)
    if not recipient:
        flags.append(
            f"no {rule.recipient_kind.replace('_', ' ')} is named for {rule.regime}: "
            "name it in the organisation profile"
        )
        recipient = f"unresolved {rule.recipient_kind.replace('_', ' ')} ({rule.regime})"
    return recipient


def declined(rules: tuple[Rule, ...], profile: Profile, facts: Facts, key: tuple[str, str]) -> str:
    """Why a duty once owed (rule id, recipient key) is no longer planned, in words: the fact that changed."""
    rule_id, recipient_key = key
    rule = next((r for r in rules if r.id == rule_id), None)
    if rule is None:
        return f"the rules table no longer has the rule {rule_id}"
    if not named(rule, profile):
        return f"the organisation profile no longer names {rule.regime}"
    if status := _other_status(rule, profile):
        return (
            f"our entity status under {rule.regime} is {status}; the duty binds a {' or a '.join(rule.entity_statuses)}"
        )
    if not applies(rule, profile, facts.roles):
        return f"we are no longer {' or '.join(rule.our_roles)} for any data the incident reached"
    if not in_force(rule, facts):
        return f"{rule.regime} {rule.stage} binds breaches we became aware of from {rule.in_force_from.describe()}"
    if _ruling(rule, facts) is None:
        needed = [CONDITION_WORDS[c] for c in rule.conditions if c in OCCURRENCES]
        return f"it is no longer recorded that {' and that '.join(needed)}"
    if rule.applies_when and rule.applies_when.per_region:
        region = recipient_key.split(":", 1)[1]
        population = by_region(rule.applies_when, facts.own_regions).get(region, {})
        return assess_region(rule.applies_when, region, population, profile.name).reason or (
            f"no affected residents of {region_name(region)}"
        )
    if rule.recipient_kind not in PER_CUSTOMER:
        return assess(rule.applies_when, facts.own_regions, None, profile.name).reason
    customer = next((c for c in facts.customers if c.key == recipient_key), None)
    if customer is None:
        return f"customer {recipient_key} is no longer affected"
    return assess(rule.applies_when, customer.regions, customer.statuses, customer.name).reason


def rulings_from(decisions: dict[str, Ruling], determinations: dict[str, Ruling]) -> dict[str, Ruling]:
    """The assessment's two decisions and the determinations recorded as events, keyed by condition."""
    return {
        "unless_unlikely_risk": decisions.get("authority", Ruling(None)),
        "high_risk": decisions.get("data_subjects", Ruling(None)),
        **{condition: determinations[condition] for condition in DETERMINATIONS if condition in determinations},
    }


def clock(terms: Terms, anchors: dict[str, datetime]) -> dict[str, Any]:
    """anchor, clock_start, due_at and target_at for the anchors known now. A "without undue delay" duty has no
    legal due time: its internal target is stored apart, and says so."""
    found = terms.binding(anchors)
    if found is None:
        return {"anchor": terms.anchor, "clock_start": None, "due_at": None, "target_at": None}
    anchor, start, when = found
    # which limit ended first decides, not its anchor: both limits may count from awareness (a state law's "without
    # unreasonable delay, but not later than 45 days")
    main_start = anchors.get(terms.anchor)
    main = main_start is not None and due_at(main_start, terms.period) == when
    undue = (terms.period if main else terms.not_later_than.period).unit == Unit.WITHOUT_UNDUE_DELAY
    return {
        "anchor": anchor,
        "clock_start": start,
        "due_at": None if undue else when,
        "target_at": when if undue else None,
    }


def span_parts(seconds: float) -> tuple[int, int, int]:
    """The whole days, hours and minutes of a span, its sign dropped: what every countdown says, in any language."""
    minutes = abs(int(seconds)) // 60
    return minutes // 1440, minutes // 60 % 24, minutes % 60


def duration(seconds: int) -> str:
    """A span as people say it at 3 a.m.: "1 d 2 h", "3 h 20 min", "5 min"."""
    days, hours, mins = span_parts(seconds)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


#: how a countdown says that its time has gone by: a target missed is not a deadline missed
PAST_DEADLINE = "overdue by"
PAST_TARGET = "target passed by"


def remaining(due: datetime | None, now: datetime, target: bool = False) -> str:
    """ "in 3 h 20 min" or "overdue by 1 d 2 h": what the person on call reads first; for our internal target
    where the law says "without undue delay", "target passed by 2 h"."""
    if due is None:
        return "clock not started"
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return f"in {duration(seconds)}"
    return f"{PAST_TARGET if target else PAST_DEADLINE} {duration(seconds)}"


def urgency(due: datetime | None, now: datetime) -> str:
    """overdue, under 4 h, under 24 h or later: the colours of the deadline views."""
    if due is None:
        return "later"
    left = (due - now).total_seconds() / 3600
    return "overdue" if left < 0 else "h4" if left < 4 else "h24" if left < 24 else "later"
