"""The rules table shipped with the package: loaded, validated, and turned into Periods. Pure."""

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

from breachdesk.core.i18n import Label
from breachdesk.deadlines.calendar import END_OF_DAY, IMMEDIATELY_HOURS, WEEKEND_RULES, Period, Unit, due_at
from breachdesk.inventory.models import Language
from breachdesk.inventory.regions import UNKNOWN, parse_region
from breachdesk.inventory.taxonomy import data_categories

RECIPIENT_KINDS = {
    "controller",
    "supervisory_authority",
    "data_subjects",
    "csirt",
    "regulator",
    "covered_entity",
    "state_attorney_general",
    "media",
    "consumer_reporting_agencies",
    "service_recipients",
    "clients",
}
#: what a notice says for each recipient kind (breachdesk/translations holds the other languages' words); a
#: row's regime and stage are words already, translated through the catalogue too (notices/words.py)
RECIPIENT_KIND_LABELS = {
    "controller": Label("recipient kind", "controller"),
    "supervisory_authority": Label("recipient kind", "supervisory authority"),
    "data_subjects": Label("recipient kind", "data subjects"),
    "csirt": Label("recipient kind", "national CSIRT (computer security incident response team)"),
    "regulator": Label("recipient kind", "regulator"),
    "covered_entity": Label("recipient kind", "covered entity (HIPAA)"),
    "state_attorney_general": Label("recipient kind", "state attorney general"),
    "media": Label("recipient kind", "prominent media outlets"),
    "consumer_reporting_agencies": Label("recipient kind", "nationwide consumer reporting agencies"),
    "service_recipients": Label("recipient kind", "recipients of our services"),
    "clients": Label("recipient kind", "clients"),
}
#: what starts a clock, in words: "the clock starts when we became aware"
ANCHOR_WORDS = {
    "awareness": "when we became aware",
    "detection": "when it was detected",
    "high_risk_established": "when a high risk to people is established",
    "significance_determined": "when the incident is judged significant",
    "classified_major": "when the incident is classified as major",
    "materiality_determined": "when the incident is judged material",
    "notifiable_assessed": "when the breach is assessed as notifiable",
    "discovery_year_end": "when the calendar year of discovery ends",
    "report_requested": "when the authority asks for the report",
    "incident_handled": "when the handling of the incident ends",
}
#: anchors that name another row: `stage_filed:<rule id>` (that stage was first filed), `stage_filed_latest:<rule id>`
#: (its latest filing) and `stage_due:<rule id>` (that stage's deadline ended: the due time of its duty, the earliest
#: of them if it is owed to several recipients)
STAGE_ANCHORS = ("stage_filed", "stage_filed_latest", "stage_due")
ANCHORS = {
    "awareness",
    "detection",
    "high_risk_established",
    "significance_determined",
    "classified_major",
    "materiality_determined",
    "notifiable_assessed",
    "discovery_year_end",
    "report_requested",
    "incident_handled",
}
#: when a duty exists. unless_unlikely_risk and high_risk follow the assessment's decision for the authority
#: and the data subjects; the others follow a person's determination, recorded as an incident event
#: (positive: the event below; negative: the "not_..." event with its rationale)
DETERMINATIONS = {
    "significant": ("significance_determined", "not_significant"),
    "major": ("classified_major", "not_major"),
    "material": ("materiality_determined", "not_material"),
    "notifiable": ("notifiable_assessed", "not_notifiable"),
    "service_impact": ("service_impact_determined", "no_service_impact"),
    "client_impact": ("client_impact_determined", "no_client_impact"),
    "requested": ("report_requested", "request_withdrawn"),
    "ongoing": ("still_ongoing", "not_ongoing"),
}
#: determinations of something that happened (an authority's request; an incident still ongoing when its final
#: report was due): until a person records it, the duty that needs it does not exist
OCCURRENCES = {"requested", "ongoing"}
CONDITIONS = {"always", "unless_unlikely_risk", "high_risk", *DETERMINATIONS}
#: `condition: [significant, not ongoing]`: every part must hold; "not" a determination holds until it is made
NEGATION = "not "
#: what an obligation keeps of its condition ("significant and not ongoing"), in characters
CONDITION_LENGTH = 32
#: what a condition says on the obligation's page: "owed once the incident is judged significant"
CONDITION_WORDS = {
    "always": "always, for this regime and role",
    "unless_unlikely_risk": "unless the breach is unlikely to result in a risk (the assessment decides)",
    "high_risk": "when the risk to people is high (the assessment decides)",
    "significant": "the incident is judged significant",
    "major": "the incident is classified as major",
    "material": "the incident is judged material",
    "notifiable": "the breach is assessed as notifiable",
    "service_impact": "the incident is judged likely to affect our service to its recipients, who should be told",
    "client_impact": "the incident is judged to affect the financial interests of clients",
    "requested": "the authority asks for the report",
    "ongoing": "the incident is still ongoing when the final report is due",
}
ROLES = {"processor", "controller"}
#: the customer statuses a rule may need (`applies_when.customer_status`), as the inventory records them, in words
CUSTOMER_STATUSES = {
    "hipaa_covered_entity": "a HIPAA covered entity (we signed a business associate agreement with it)",
    "financial_entity": "a DORA financial entity (we are its ICT third-party service provider)",
}
#: `authority: lead_supervisory_authority` in a row means the one named in the organisation profile
LEAD_AUTHORITY = "lead_supervisory_authority"
#: `holiday_country: organisation` in a row means the organisation profile's country
ORGANISATION = "organisation"
#: the internal target for "without undue delay" until the organisation profile sets its own (a row may leave the
#: period's amount out for that unit: the organisation's target applies)
DEFAULT_UNDUE_DELAY_TARGET_HOURS = 72


@dataclass(frozen=True)
class Limit:
    anchor: str
    period: Period
    #: the limit binds only while the main clock starts within it (DORA's 24 h from awareness, Delegated Regulation
    #: (EU) 2025/301 Art. 5(2)): a later start gets the main period, never a due time already past at birth
    lapses_after: bool = False


@dataclass(frozen=True)
class Terms:
    """What an obligation owes, frozen when it is created: a later change of the rules table or of the
    customer's contract does not move a deadline that was already owed."""

    anchor: str
    period: Period
    not_later_than: Limit | None = None

    def binding(self, anchors: dict[str, datetime]) -> tuple[str, datetime, datetime] | None:
        """(anchor, clock start, due instant) of the limit that ends first, from the anchors known so far;
        None while no clock has started."""
        candidates = []
        for limit in (Limit(self.anchor, self.period), self._cap(anchors)):
            if limit and anchors.get(limit.anchor):
                start = anchors[limit.anchor]
                candidates.append((due_at(start, limit.period), limit.anchor, start))
        if not candidates:
            return None
        due, anchor, start = min(candidates)
        return anchor, start, due

    def _cap(self, anchors: dict[str, datetime]) -> Limit | None:
        """The second limit, unless it lapsed: the main clock started after it had run out."""
        limit, start = self.not_later_than, anchors.get(self.anchor)
        if limit and limit.lapses_after and start and anchors.get(limit.anchor):
            if start >= due_at(anchors[limit.anchor], limit.period):
                return None
        return limit

    def due(self, anchors: dict[str, datetime]) -> datetime | None:
        found = self.binding(anchors)
        return found[2] if found else None

    def explanation(self, anchors: dict[str, datetime]) -> str:
        """Why a lapsing limit does or does not bind, in words, for the person who must meet it; '' otherwise."""
        limit = self.not_later_than
        if not (limit and limit.lapses_after and anchors.get(limit.anchor)):
            return ""
        main, cap = _words(self.anchor), _words(limit.anchor)
        start, cap_ends = anchors.get(self.anchor), due_at(anchors[limit.anchor], limit.period)
        if start is None:
            return (
                f"provisional: due {limit.period.describe()} from {cap} until the {main} is recorded; a {main} "
                f"recorded later than that gives {self.period.describe()} from it"
            )
        if self._cap(anchors) is None:
            return (
                f"the {main} came after the limit of {limit.period.describe()} from {cap} had run out: due "
                f"{self.period.describe()} from the {main}"
            )
        if cap_ends < due_at(start, self.period):
            return (
                f"less than {self.period.describe()} from the {main}: the limit of {limit.period.describe()} "
                f"from {cap} ends first"
            )
        return ""

    def describe(self) -> str:
        text = f"{self.period.describe()} from {_words(self.anchor)}"
        if self.not_later_than:
            text += (
                f", and no later than {self.not_later_than.period.describe()} from {_words(self.not_later_than.anchor)}"
            )
            if self.not_later_than.lapses_after:
                text += f" unless the {_words(self.anchor)} comes after that"
        return text

    def as_dict(self) -> dict:
        limit = self.not_later_than
        return {
            "anchor": self.anchor,
            "period": _period_dict(self.period),
            "not_later_than": {"anchor": limit.anchor, **_period_dict(limit.period), **_lapses(limit)}
            if limit
            else None,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> "Terms":
        limit = raw.get("not_later_than")
        return cls(
            raw["anchor"],
            _period(raw["period"], "terms.period"),
            _limit(limit, "terms.not_later_than") if limit else None,
        )


#: what starts a clock, as a noun in a sentence: "72 hours from awareness"
ANCHOR_NOUNS = {
    "awareness": "awareness",
    "detection": "detection",
    "high_risk_established": "finding of a high risk",
    "significance_determined": "determination that the incident is significant",
    "classified_major": "classification as major",
    "materiality_determined": "determination of materiality",
    "notifiable_assessed": "determination that the breach is notifiable",
    "discovery_year_end": "end of the calendar year of discovery",
    "report_requested": "authority's request",
    "incident_handled": "end of the handling of the incident",
}


#: anchors counted from a stage filed: the first filing, or the latest one (DORA's final report counts from the
#: latest updated intermediate report, Delegated Regulation (EU) 2025/301 Art. 5(1)(c)); or from its deadline's end
STAGE_FILED, STAGE_FILED_LATEST, STAGE_DUE = "stage_filed:", "stage_filed_latest:", "stage_due:"


def filed_stage(anchor: str) -> str | None:
    """The rule id an anchor counts from the filing of, or None."""
    for prefix in (STAGE_FILED, STAGE_FILED_LATEST):
        if anchor.startswith(prefix):
            return anchor.removeprefix(prefix)
    return None


def anchored_stage(anchor: str) -> tuple[str, str] | None:
    """(kind, "the <regime> <stage>") of an anchor counted from another row, in words for a person; the row's id
    when the table no longer has it is said as "an earlier stage". None: the anchor names no row."""
    kind = next((prefix for prefix in (STAGE_FILED, STAGE_FILED_LATEST, STAGE_DUE) if anchor.startswith(prefix)), None)
    if kind is None:
        return None
    stage = next((r for r in shipped_rules() if r.id == anchor.removeprefix(kind)), None)
    return kind, f"the {stage.regime} {stage.stage}" if stage else "an earlier stage"


def _words(anchor: str) -> str:
    if (found := anchored_stage(anchor)) is not None:
        kind, stage = found
        return {STAGE_FILED: f"filing of {stage}", STAGE_FILED_LATEST: f"latest filing of {stage}"}.get(
            kind, f"end of the deadline of {stage}"
        )
    return ANCHOR_NOUNS.get(anchor, anchor.replace("_", " "))


def _lapses(limit: Limit) -> dict:
    return {"lapses_after": True} if limit.lapses_after else {}


def _limit(raw: dict, where: str) -> Limit:
    bound = dict(raw)
    anchor, lapses = bound.pop("anchor"), bound.pop("lapses_after", False)
    if not isinstance(lapses, bool):
        raise RulesError(f"{where}.lapses_after: true or false")
    return Limit(anchor, _period(bound, where), lapses)


def _period_dict(period: Period) -> dict:
    raw = {"amount": period.amount, "unit": period.unit.value, "time_zone": period.time_zone}
    if period.holiday_country:
        raw["holiday_country"] = period.holiday_country
    if period.day_ends != END_OF_DAY:
        raw["day_ends"] = f"{period.day_ends:%H:%M}"
    if period.weekend_rule:
        raw["weekend_rule"] = period.weekend_rule
    if period.immediately:
        raw["immediately"] = True
    return raw


@dataclass(frozen=True)
class Fact:
    """Something a notice's content is made of (the `facts:` table of rules.yaml)."""

    id: str
    label: str
    #: a person writes it in the statement for recipients, per language; else the system knows it
    written: bool


@dataclass(frozen=True)
class ContentItem:
    """One thing a notice under a rule must say, with the law that asks for it."""

    id: str
    label: str
    source: str
    #: the facts that together say it
    satisfied_by: tuple[str, ...]
    #: the law qualifies it ("where possible", "if known"): an explicit "not yet known" counts
    where_possible: bool = False
    #: required only in this situation, which a person judges
    applies_when: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Late:
    """The regime asks a notice made after its due time to state the reasons for the delay."""

    source: str
    note: str | None = None


@dataclass(frozen=True)
class Followup:
    """What a complementary notice to the same recipient carries on top of the rule's content."""

    source: str
    content: tuple[ContentItem, ...]


@dataclass(frozen=True)
class Element:
    """A data element a law names ("Social Security number"), and the Fides data categories that hold it (the
    `elements:` table)."""

    name: str
    label: str
    #: a category holds the element when it is one of these keys or lies below one of them
    keys: tuple[str, ...]


@dataclass(frozen=True)
class AppliesWhen:
    """When a rule applies beyond its regime and our roles, as facts of the impact (deadlines.applicability)."""

    #: the people whose residence triggers it: ISO 3166-1 countries or ISO 3166-2 subdivisions; none: anyone
    regions: tuple[str, ...] = ()
    #: the affected residents of those regions needed; None: any number
    min_residents: int | None = None
    #: the customer status a per-customer duty needs (CUSTOMER_STATUSES)
    customer_status: str | None = None
    #: the breach is notifiable under it only if one of these combinations was affected; none: any data
    data_elements: tuple[tuple[Element, ...], ...] = ()
    #: all the affected people, wherever they live, needed (at least) or allowed (at most); None: any number
    min_people: int | None = None
    max_people: int | None = None
    #: one duty per subdivision of the regions with enough residents (HIPAA's media notice per State)
    per_region: bool = False
    #: alternatives, each with the keys above merged in: the rule applies when one of them does (Singapore's
    #: "significant harm or significant scale"); none: the keys above decide alone
    any_of: tuple["AppliesWhen", ...] = ()
    #: in an alternative: what the data cannot settle, so a person answers it (the duty is created, flagged with it)
    question: str | None = None


@dataclass(frozen=True)
class InForce:
    """The day a provision starts to bind (00:00 in the zone of the law that sets it)."""

    day: date
    time_zone: str

    @property
    def instant(self) -> datetime:
        return datetime.combine(self.day, time(0), ZoneInfo(self.time_zone))

    def describe(self) -> str:
        return f"{self.day.day} {self.day:%B %Y} ({self.time_zone})"


@dataclass(frozen=True)
class Rule:
    id: str
    regime: str
    stage: str
    recipient_kind: str
    our_roles: tuple[str, ...]
    anchor: str
    period: Period
    condition: str
    source: str
    #: the customer's contractual hours replace period.amount (Art. 33(2) + the processing agreement)
    contract_hours: bool = False
    not_later_than: Limit | None = None
    #: who receives it when recipient_kind is an authority: a name, or the profile's lead authority
    authority: str | None = None
    #: the regime binds only entities of a status the organisation profile must state (NIS2, DORA)
    entity_status: bool = False
    content: tuple[ContentItem, ...] = ()
    late: Late | None = None
    followup: Followup | None = None
    #: when it applies beyond the regime and our roles; None: always, for them
    applies_when: AppliesWhen | None = None
    #: what of the row was not read in the source itself: its duties are flagged for a person
    unverified: str | None = None
    #: the entity statuses under the regime that the row binds, in lower case (entity_status: [covered entity]);
    #: none: whatever status the profile states
    entity_statuses: tuple[str, ...] = ()
    #: what a person should know about the row: an exception the law allows, the reading encoded, a doubt
    note: str | None = None
    #: a name the organisation profile may give to enable every regime of the group at once ("US state laws")
    group: str | None = None
    #: the shared notice template (templates/notices/<template>.<lang>.j2) used where the rule has none of its own
    template: str | None = None
    #: the language its recipients read when they are not our customer (a US attorney general, Texas residents):
    #: its notices are written in it whatever our country; none: our country's language
    reader_language: str | None = None
    #: our entity statuses under the regime, in lower case, for which the period counts double (`period.doubled_for`:
    #: LGPD's small-scale processing agents, Res. CD/ANPD 15/2024 Art. 6 §8)
    doubled_for: tuple[str, ...] = ()

    def doubles_for(self, status: str | None) -> bool:
        """Whether our entity status under the regime, as the profile states it, doubles the period."""
        return " ".join((status or "").lower().split()) in self.doubled_for

    #: the day the provision starts to bind, and the zone its date is read in: a breach we became aware of before
    #: it owes nothing under the row (its duty arises on becoming aware, and the law does not reach back)
    in_force_from: InForce | None = None

    @property
    def conditions(self) -> tuple[str, ...]:
        """The parts of the condition, each of which must hold ("significant", "not ongoing")."""
        return tuple(self.condition.split(" and "))

    def binds(self, aware_at: datetime) -> bool:
        """Whether the row binds a breach we became aware of at `aware_at`."""
        return self.in_force_from is None or aware_at >= self.in_force_from.instant

    def terms(
        self,
        contract_hours: int | None = None,
        contractual: bool = True,
        undue_delay_target_hours: int | None = None,
        organisation_country: str | None = None,
        entity_status: str | None = None,
    ) -> Terms:
        """This rule's terms for one recipient. `contract_hours` is the customer's notice term: a
        contractual deadline in clock hours, or (contractual=False) our target for "without undue delay".
        `holiday_country: organisation` in the row becomes our country (DORA counts our Member State's holidays);
        our `entity_status` under the regime doubles the period when the row says so (`doubled_for`)."""
        period = self.period
        if self.doubles_for(entity_status):
            period = replace(period, amount=period.amount * 2)
        if period.holiday_country == ORGANISATION:
            period = replace(period, holiday_country=organisation_country or None)
        if self.contract_hours and contract_hours is not None:
            unit = Unit.HOURS if contractual else Unit.WITHOUT_UNDUE_DELAY
            period = replace(period, amount=contract_hours, unit=unit)
        elif period.unit == Unit.WITHOUT_UNDUE_DELAY and undue_delay_target_hours:
            period = replace(period, amount=undue_delay_target_hours)
        if period.immediately:
            # "immediately" (our reading): the organisation's target, but never more than a day
            period = replace(period, amount=min(period.amount, IMMEDIATELY_HOURS))
        return Terms(self.anchor, period, self.not_later_than)

    def due(self, anchors: dict[str, datetime], contract_hours: int | None = None) -> datetime | None:
        return self.terms(contract_hours).due(anchors)


class RulesError(ValueError):
    pass


def _period(raw: dict, where: str) -> Period:
    unknown = set(raw) - {
        "amount",
        "unit",
        "holiday_country",
        "time_zone",
        "contract_hours",
        "immediately",
        *PERIOD_ENDINGS,
    }
    if unknown:
        raise RulesError(f"{where}: unknown period field(s) {sorted(unknown)}")
    try:
        unit = Unit(raw["unit"])
    except (KeyError, ValueError):
        raise RulesError(f"{where}.unit: one of {', '.join(u.value for u in Unit)}") from None
    undue = unit == Unit.WITHOUT_UNDUE_DELAY
    amount = raw.get("amount", DEFAULT_UNDUE_DELAY_TARGET_HOURS if undue else None)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise RulesError(f"{where}.amount: a whole number of at least 1")
    if raw.get("immediately") and not undue:
        raise RulesError(f"{where}.immediately: only for the unit without_undue_delay")
    zone = raw.get("time_zone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"{where}.time_zone: {zone!r} is not an IANA zone") from None
    if unit == Unit.BUSINESS_DAYS and not raw.get("holiday_country"):
        raise RulesError(f"{where}.holiday_country: required for business days")
    holiday_region = _holiday_region(raw.get("holiday_country"), where)
    return Period(
        amount, unit, holiday_region, zone, immediately=bool(raw.get("immediately")), **_endings(raw, unit, where)
    )


#: how a period's days end, beyond its unit (calendar.py)
PERIOD_ENDINGS = {"day_ends", "weekend_rule"}


def _endings(raw: dict, unit: Unit, where: str) -> dict:
    endings = {}
    if "day_ends" in raw:
        if unit in (Unit.HOURS, Unit.WITHOUT_UNDUE_DELAY):
            raise RulesError(f"{where}.day_ends: only for periods counted in days or months")
        try:
            endings["day_ends"] = time.fromisoformat(str(raw["day_ends"]))
        except ValueError:
            raise RulesError(f"{where}.day_ends: a local time such as 17:30") from None
    if "weekend_rule" in raw:
        if raw["weekend_rule"] not in WEEKEND_RULES:
            raise RulesError(f"{where}.weekend_rule: one of {', '.join(sorted(WEEKEND_RULES))}")
        endings["weekend_rule"] = raw["weekend_rule"]
    return endings


def _holiday_region(value: str | None, where: str) -> str | None:
    """A country (FR) or a subdivision (US-VT) whose public holidays the `holidays` package knows."""
    if value is None or value == ORGANISATION:
        return value
    country, _, subdivision = str(value).partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdivision or None)
    except NotImplementedError:
        raise RulesError(f"{where}.holiday_country: {value!r} has no public holidays known") from None
    return value


FIELDS = {"id", "regime", "stage", "recipient_kind", "our_roles", "anchor", "period", "condition", "source"}
OPTIONAL_FIELDS = {
    "not_later_than",
    "authority",
    "entity_status",
    "content",
    "late",
    "followup",
    "applies_when",
    "unverified",
    "note",
    "group",
    "template",
    "reader_language",
    "in_force_from",
}
APPLIES_WHEN_FIELDS = {
    "our_roles",
    "regions",
    "min_residents",
    "customer_status",
    "data_elements",
    "min_people",
    "max_people",
    "per_region",
    "any_of",
    "question",
}
#: what an `any_of` alternative may not set: the row's roles, one duty per region, another level of alternatives
NOT_IN_ALTERNATIVES = {"our_roles", "per_region", "any_of"}
ITEM_FIELDS = {"id", "label", "source", "satisfied_by"}
OPTIONAL_ITEM_FIELDS = {"where_possible", "applies_when", "note"}
WRITERS = {"statement": True, "system": False}


def parse_facts(document: dict) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    for index, raw in enumerate(document.get("facts") or []):
        where = f"facts[{raw.get('id', index)}]"
        if set(raw) != {"id", "label", "written_by"}:
            raise RulesError(f"{where}: the fields are id, label and written_by")
        if raw["written_by"] not in WRITERS:
            raise RulesError(f"{where}.written_by: statement or system")
        if raw["id"] in facts:
            raise RulesError(f"{where}: duplicate id")
        facts[raw["id"]] = Fact(raw["id"], _text(raw["label"], f"{where}.label"), WRITERS[raw["written_by"]])
    return facts


def parse_elements(document: dict) -> dict[str, Element]:
    """The `elements:` table: name -> {label, fides: [data category keys]}."""
    elements: dict[str, Element] = {}
    known = data_categories()
    for name, raw in (document.get("elements") or {}).items():
        where = f"elements[{name}]"
        if not isinstance(raw, dict) or set(raw) != {"label", "fides"}:
            raise RulesError(f"{where}: the fields are label and fides")
        keys = raw["fides"]
        if not isinstance(keys, list) or not keys:
            raise RulesError(f"{where}.fides: a list of at least one Fides data category key")
        if unknown := [k for k in keys if k not in known]:
            raise RulesError(f"{where}.fides: {unknown} not in the Fides taxonomy")
        elements[name] = Element(name, _text(raw["label"], f"{where}.label"), tuple(keys))
    return elements


def parse_rules(document: dict, lines: list[int] | None = None) -> tuple[Rule, ...]:
    """The rows of a table; `lines` (the line each row starts on) lets a refusal name the row's line."""
    facts = parse_facts(document)
    elements = parse_elements(document)
    rules = [
        _rule(raw, _where(raw, index, lines), facts, elements) for index, raw in enumerate(document.get("rules") or [])
    ]
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise RulesError("rules: duplicate id")
    for rule in rules:
        kind, _, stage = rule.anchor.partition(":")
        if kind in STAGE_ANCHORS and stage not in ids:
            raise RulesError(
                f"rules[{rule.id}].anchor: {kind} names an unknown stage {stage!r} (not a rule id of the table)"
            )
    return tuple(rules)


def _where(raw: dict, index: int, lines: list[int] | None) -> str:
    place = f"rules[{raw.get('id', index)}]"
    return f"rules.yaml:{lines[index]}: {place}" if lines else place


def read_table(text: str) -> tuple[dict, list[int]]:
    """The table and the line each row of its `rules:` list starts on, from one parse by libyaml (PyYAML's C
    loader: the table is some 400 KB, read by every process that derives a duty)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # pure Python where PyYAML was built without it
    try:
        root = loader.get_single_node()
        rows = next(value for key, value in root.value if key.value == "rules")
        return loader.construct_document(root), [row.start_mark.line + 1 for row in rows.value]
    finally:
        loader.dispose()


def _rule(raw: dict, where: str, facts: dict[str, Fact], elements: dict[str, Element]) -> Rule:
    """One row of the table, or a RulesError naming its field."""
    _check_fields(raw, where)
    period = dict(raw["period"])
    doubled_for = _statuses(period.pop("doubled_for"), f"{where}.period.doubled_for") if "doubled_for" in period else ()
    limit = _limit(raw["not_later_than"], f"{where}.not_later_than") if "not_later_than" in raw else None
    return Rule(
        raw["id"],
        raw["regime"],
        raw["stage"],
        raw["recipient_kind"],
        tuple(raw["our_roles"]),
        raw["anchor"],
        _period(period, f"{where}.period"),
        _condition(raw["condition"], f"{where}.condition"),
        " ".join(str(raw["source"]).split()),
        bool(raw["period"].get("contract_hours")),
        limit,
        raw.get("authority"),
        bool(raw.get("entity_status", False)),
        _items(raw.get("content") or [], f"{where}.content", facts),
        _late(raw["late"], f"{where}.late") if "late" in raw else None,
        _followup(raw["followup"], f"{where}.followup", facts) if "followup" in raw else None,
        _applies_when(raw, f"{where}.applies_when", elements) if "applies_when" in raw else None,
        _text(raw["unverified"], f"{where}.unverified") if "unverified" in raw else None,
        _entity_statuses(raw.get("entity_status", False), f"{where}.entity_status"),
        *(_text(raw[name], f"{where}.{name}") if name in raw else None for name in ("note", "group", "template")),
        _reader_language(raw.get("reader_language"), f"{where}.reader_language"),
        doubled_for,
        _in_force(raw["in_force_from"], f"{where}.in_force_from") if "in_force_from" in raw else None,
    )


def _reader_language(raw, where: str) -> str | None:
    """A language our notices are written in: a row cannot ask for one no template is written in."""
    if raw is None or raw in {language.value for language in Language}:
        return raw
    raise RulesError(f"{where}: {raw!r} is not a language notices are written in ({', '.join(Language)})")


def _in_force(raw, where: str) -> InForce:
    """`{date: 2027-05-13, time_zone: Asia/Kolkata}`: the date is the law's, read in the zone of that law."""
    shape = f"{where}: {{date: YYYY-MM-DD, time_zone: an IANA zone}} (the day it starts to bind, in the law's zone)"
    if not isinstance(raw, dict) or set(raw) != {"date", "time_zone"}:
        raise RulesError(shape)
    day = raw["date"]
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            raise RulesError(f"{where}.date: {raw['date']!r} is not a date YYYY-MM-DD") from None
    if not isinstance(day, date) or isinstance(day, datetime):
        raise RulesError(f"{where}.date: {raw['date']!r} is not a date YYYY-MM-DD")
    try:
        ZoneInfo(str(raw["time_zone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"{where}.time_zone: {raw['time_zone']!r} is not an IANA zone") from None
    return InForce(day, str(raw["time_zone"]))


def _condition(raw, where: str) -> str:
    """A condition, or a list of them that must all hold, stored as words joined by " and "; "not <determination>"
    holds until a person determines it."""
    parts = raw if isinstance(raw, list) else [raw]
    for part in parts:
        if not isinstance(part, str) or (part not in CONDITIONS and part.removeprefix(NEGATION) not in DETERMINATIONS):
            raise RulesError(
                f"{where}: always, unless_unlikely_risk, high_risk, a determination "
                f"({', '.join(sorted(DETERMINATIONS))}) or not one, or a list of them"
            )
    if not parts or (len(parts) > 1 and "always" in parts) or len(set(parts)) != len(parts):
        raise RulesError(f"{where}: a list of distinct conditions, without always")
    words = " and ".join(parts)
    if len(words) > CONDITION_LENGTH:
        raise RulesError(f"{where}: {words!r} is longer than the {CONDITION_LENGTH} characters an obligation keeps")
    return words


def _entity_statuses(raw, where: str) -> tuple[str, ...]:
    if isinstance(raw, bool):
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) and s.strip() for s in raw):
        raise RulesError(f"{where}: true, or the list of statuses the row binds")
    return tuple(" ".join(s.lower().split()) for s in raw)


def _statuses(raw, where: str) -> tuple[str, ...]:
    """An entity status, or a list of them, as the profile may state them (in lower case)."""
    listed = [raw] if isinstance(raw, str) else raw
    if not isinstance(listed, list) or not listed or not all(isinstance(s, str) and s.strip() for s in listed):
        raise RulesError(f"{where}: an entity status (as the profile states it), or a list of them")
    return tuple(" ".join(s.lower().split()) for s in listed)


def _count(raw: dict, name: str, where: str, least: int = 1) -> int | None:
    value = raw.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
        raise RulesError(f"{where}.{name}: a whole number of at least {least}")
    return value


def _applies_when(row: dict, where: str, elements: dict[str, Element]) -> AppliesWhen:
    raw = row["applies_when"]
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: a mapping of {', '.join(sorted(APPLIES_WHEN_FIELDS))}")
    if unknown := set(raw) - APPLIES_WHEN_FIELDS:
        raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}")
    if "our_roles" in raw and list(raw["our_roles"]) != list(row["our_roles"]):
        raise RulesError(f"{where}.our_roles: differs from the row's our_roles, which decide")
    if "question" in raw:
        raise RulesError(f"{where}.question: only in an any_of alternative (beside the others, which may settle it)")
    if "any_of" not in raw:
        return _conditions(raw, row, where, elements)
    common = {key: value for key, value in raw.items() if key != "any_of"}
    if common.get("per_region", False) is not False:
        raise RulesError(f"{where}.per_region: not with any_of (one duty per region is counted without alternatives)")
    return replace(
        _conditions(common, row, where, elements, partial=True),
        any_of=_alternatives(raw["any_of"], common, row, f"{where}.any_of", elements),
    )


def _alternatives(raw, common: dict, row: dict, where: str, elements: dict[str, Element]) -> tuple[AppliesWhen, ...]:
    """Each alternative with the keys set beside `any_of` merged in, so that each is a whole test."""
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(a, dict) and a for a in raw):
        raise RulesError(f"{where}: a list of at least two alternatives, each a mapping of applies_when fields")
    found = []
    for index, alternative in enumerate(raw):
        place = f"{where}[{index}]"
        if unknown := set(alternative) - APPLIES_WHEN_FIELDS:
            raise RulesError(f"{place}: unknown field(s) {sorted(unknown)}")
        if barred := sorted(set(alternative) & NOT_IN_ALTERNATIVES):
            raise RulesError(f"{place}: {', '.join(barred)} may not be set in an alternative")
        if twice := sorted(set(alternative) & set(common)):
            raise RulesError(f"{place}: {', '.join(twice)} also set beside any_of (say it once)")
        question = _text(alternative["question"], f"{place}.question") if "question" in alternative else None
        found.append(replace(_conditions(common | alternative, row, place, elements), question=question))
    if all(alternative.question for alternative in found):
        raise RulesError(f"{where}: every alternative is a question; one at least is a test of the data")
    return tuple(found)


def _conditions(raw: dict, row: dict, where: str, elements: dict[str, Element], partial: bool = False) -> AppliesWhen:
    """The tests of one mapping; `partial`: the keys beside `any_of`, which its alternatives complete."""
    regions = tuple(_region(value, f"{where}.regions") for value in raw.get("regions") or ())
    least = _count(raw, "min_residents", where)
    if least is not None and not regions and not partial:
        raise RulesError(f"{where}.min_residents: counts residents of the regions, which are missing")
    per_region = raw.get("per_region", False)
    if per_region is not False and (per_region is not True or least is None):
        raise RulesError(f"{where}.per_region: true, with the regions and min_residents counted in each")
    status = raw.get("customer_status")
    if status is not None and status not in CUSTOMER_STATUSES:
        raise RulesError(f"{where}.customer_status: one of {', '.join(CUSTOMER_STATUSES)}")
    if status is not None and list(row["our_roles"]) != ["processor"]:
        raise RulesError(f"{where}.customer_status: only for duties we owe our customers as processor")
    return AppliesWhen(
        regions,
        least,
        status,
        _combinations(raw.get("data_elements"), f"{where}.data_elements", elements),
        _count(raw, "min_people", where),
        _count(raw, "max_people", where, least=0),
        per_region,
    )


def _region(value, where: str) -> str:
    try:
        code = parse_region(value) if isinstance(value, str) else ""
    except ValueError as error:
        raise RulesError(f"{where}: {error}") from None
    if code in ("", UNKNOWN):
        raise RulesError(f"{where}: {value!r} is not an ISO 3166-1 or 3166-2 code")
    return code


def _combinations(raw, where: str, elements: dict[str, Element]) -> tuple[tuple[Element, ...], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(c, list) and c for c in raw):
        raise RulesError(f"{where}: a list of combinations, each a list of element names")
    if unknown := sorted({name for c in raw for name in c if name not in elements}, key=str):
        raise RulesError(f"{where}: unknown element(s) {unknown} (define them under elements:)")
    return tuple(tuple(elements[name] for name in combination) for combination in raw)


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{where}: a non-empty text")
    return " ".join(value.split())


def _items(raw: list, where: str, facts: dict[str, Fact]) -> tuple[ContentItem, ...]:
    items = tuple(_item(entry, f"{where}[{entry.get('id', index)}]", facts) for index, entry in enumerate(raw))
    if len({i.id for i in items}) != len(items):
        raise RulesError(f"{where}: duplicate item id")
    return items


def _item(raw: dict, where: str, facts: dict[str, Fact]) -> ContentItem:
    if unknown := set(raw) - ITEM_FIELDS - OPTIONAL_ITEM_FIELDS:
        raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}")
    if missing := ITEM_FIELDS - set(raw):
        raise RulesError(f"{where}: missing {sorted(missing)}")
    if not raw["satisfied_by"]:
        raise RulesError(f"{where}.satisfied_by: at least one fact")
    if unknown := [f for f in raw["satisfied_by"] if f not in facts]:
        raise RulesError(f"{where}.satisfied_by: unknown fact(s) {unknown} (define them under facts:)")
    return ContentItem(
        raw["id"],
        _text(raw["label"], f"{where}.label"),
        _text(raw["source"], f"{where}.source"),
        tuple(raw["satisfied_by"]),
        bool(raw.get("where_possible", False)),
        _text(raw["applies_when"], f"{where}.applies_when") if "applies_when" in raw else None,
        _text(raw["note"], f"{where}.note") if "note" in raw else None,
    )


def _late(raw: dict, where: str) -> Late:
    if unknown := set(raw) - {"source", "note"}:
        raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}")
    return Late(
        _text(raw.get("source"), f"{where}.source"), _text(raw["note"], f"{where}.note") if "note" in raw else None
    )


def _followup(raw: dict, where: str, facts: dict[str, Fact]) -> Followup:
    if unknown := set(raw) - {"source", "content"}:
        raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}")
    return Followup(
        _text(raw.get("source"), f"{where}.source"), _items(raw.get("content") or [], f"{where}.content", facts)
    )


def _check_fields(raw: dict, where: str) -> None:
    if unknown := set(raw) - FIELDS - OPTIONAL_FIELDS:
        raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}")
    if missing := FIELDS - set(raw):
        raise RulesError(f"{where}: missing {sorted(missing)}")
    anchor = raw["anchor"]
    if anchor not in ANCHORS and not re.fullmatch(rf"({'|'.join(STAGE_ANCHORS)}):[a-z0-9-]+", anchor):
        raise RulesError(f"{where}.anchor: {anchor!r} is not a known anchor")
    if raw["recipient_kind"] not in RECIPIENT_KINDS:
        raise RulesError(f"{where}.recipient_kind: {raw['recipient_kind']!r} is unknown")
    if not set(raw["our_roles"]) <= ROLES or not raw["our_roles"]:
        raise RulesError(f"{where}.our_roles: a list of processor and/or controller")
    if not str(raw["source"]).strip():
        raise RulesError(f"{where}.source: every rule cites its legal source")
    if raw.get("authority") is not None and not str(raw["authority"]).strip():
        raise RulesError(f"{where}.authority: a name, or {LEAD_AUTHORITY}")


@cache
def _shipped_table() -> tuple[dict, list[int]]:
    return read_table(resources.files("breachdesk.deadlines").joinpath("rules.yaml").read_text(encoding="utf-8"))


@cache
def shipped_rules() -> tuple[Rule, ...]:
    return parse_rules(*_shipped_table())


@cache
def shipped_facts() -> dict[str, Fact]:
    return parse_facts(_shipped_table()[0])


def rule(rule_id: str) -> Rule:
    return next(r for r in shipped_rules() if r.id == rule_id)
