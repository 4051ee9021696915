"""The rules table shipped with the package: loaded, validated, and turned into Periods. Pure."""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from breachdesk.deadlines.calendar import Period, Unit, due_at

RECIPIENT_KINDS = {"controller", "supervisory_authority", "data_subjects", "csirt", "regulator", "covered_entity",
                   "state_attorney_general"}
ANCHORS = {"awareness", "detection", "high_risk_established", "significance_determined", "classified_major",
           "materiality_determined", "notifiable_assessed"}
CONDITIONS = {"always", "unless_unlikely_risk", "high_risk"}
ROLES = {"processor", "controller"}


@dataclass(frozen=True)
class Limit:
    anchor: str
    period: Period


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

    def due(self, anchors: dict[str, datetime], contract_hours: int | None = None) -> datetime | None:
        """The due instant from the anchors known so far; None while the clock has not started."""
        start = anchors.get(self.anchor)
        period = self.period
        if self.contract_hours and contract_hours is not None:
            period = Period(contract_hours, period.unit, period.holiday_country, period.time_zone)
        candidates = [due_at(start, period)] if start else []
        if self.not_later_than and anchors.get(self.not_later_than.anchor):
            candidates.append(due_at(anchors[self.not_later_than.anchor], self.not_later_than.period))
        return min(candidates) if candidates else None


class RulesError(ValueError):
    pass


def _period(raw: dict, where: str) -> Period:
    unknown = set(raw) - {"amount", "unit", "holiday_country", "time_zone", "contract_hours"}
    if unknown:
        raise RulesError(f"{where}: unknown period field(s) {sorted(unknown)}")
    try:
        unit = Unit(raw["unit"])
    except (KeyError, ValueError):
        raise RulesError(f"{where}.unit: one of {', '.join(u.value for u in Unit)}") from None
    amount = raw.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise RulesError(f"{where}.amount: a whole number of at least 1")
    zone = raw.get("time_zone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"{where}.time_zone: {zone!r} is not an IANA zone") from None
    if unit == Unit.BUSINESS_DAYS and not raw.get("holiday_country"):
        raise RulesError(f"{where}.holiday_country: required for business days")
    return Period(amount, unit, raw.get("holiday_country"), zone)


def parse_rules(document: dict) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for index, raw in enumerate(document.get("rules") or []):
        where = f"rules[{raw.get('id', index)}]"
        missing = {"id", "regime", "stage", "recipient_kind", "our_roles", "anchor", "period", "condition",
                   "source"} - set(raw)
        if missing:
            raise RulesError(f"{where}: missing {sorted(missing)}")
        anchor = raw["anchor"]
        if anchor not in ANCHORS and not re.fullmatch(r"stage_filed:[a-z0-9-]+", anchor):
            raise RulesError(f"{where}.anchor: {anchor!r} is not a known anchor")
        if raw["recipient_kind"] not in RECIPIENT_KINDS:
            raise RulesError(f"{where}.recipient_kind: {raw['recipient_kind']!r} is unknown")
        if not set(raw["our_roles"]) <= ROLES or not raw["our_roles"]:
            raise RulesError(f"{where}.our_roles: a list of processor and/or controller")
        if raw["condition"] not in CONDITIONS:
            raise RulesError(f"{where}.condition: one of {', '.join(sorted(CONDITIONS))}")
        if not str(raw["source"]).strip():
            raise RulesError(f"{where}.source: every rule cites its legal source")
        limit = None
        if "not_later_than" in raw:
            bound = dict(raw["not_later_than"])
            limit = Limit(bound.pop("anchor"), _period(bound, f"{where}.not_later_than"))
        rules.append(Rule(raw["id"], raw["regime"], raw["stage"], raw["recipient_kind"], tuple(raw["our_roles"]),
                          anchor, _period(raw["period"], f"{where}.period"), raw["condition"],
                          " ".join(str(raw["source"]).split()), bool(raw["period"].get("contract_hours")), limit))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise RulesError("rules: duplicate id")
    for rule in rules:
        if rule.anchor.startswith("stage_filed:") and rule.anchor.split(":", 1)[1] not in ids:
            raise RulesError(f"rules[{rule.id}].anchor: names an unknown stage")
    return tuple(rules)


@cache
def shipped_rules() -> tuple[Rule, ...]:
    text = resources.files("breachdesk.deadlines").joinpath("rules.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text))


def rule(rule_id: str) -> Rule:
    return next(r for r in shipped_rules() if r.id == rule_id)
