"""The inventory file format: field specs, a line-aware YAML reader and record validation.

Pure: no database. Every problem names the file, the line and the field, because the person fixing
an import of ten thousand customers must find the one bad value at once.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from breachdesk.core.errors import ValidationFailed
from breachdesk.inventory import rules
from breachdesk.inventory.models import ContactRole, Language, LegalBasis, NoticeTerms, OurRole

FORMAT = "breachdesk-inventory/1"
VOLUME_COLUMNS = ("customer", "activity", "data_subject_category", "data_subjects", "records")
#: the optional column of volumes.csv saying where a row's people live (inventory.regions); a file without it, or an
#: empty cell, leaves the row in the default region: the customer's country, or the organisation's for our own rows
REGION_COLUMN = "region"
#: the columns an export writes: one row per customer, activity, data subject category and region
EXPORTED_VOLUME_COLUMNS = ("customer", "activity", "data_subject_category", REGION_COLUMN, "data_subjects", "records")
MAX_PROBLEMS = 100

# Upper bounds of the inventory's whole numbers: past any real value, and low enough that what is computed from them
# stays within its type.
#: hours a customer's contract gives us to notify it, and our target for "without undue delay": the longest period
#: in the rules table is 60 days (HIPAA's business associate), so 90 days of hours is past any agreement and catches
#: days typed as hours; a deadline that long after the last instant BreachDesk records (core.clock.YEARS) still falls
#: within year 9999, whatever the time zone it is shown in
MAX_NOTICE_HOURS = 90 * 24
#: a century, past any retention a record of processing states
MAX_RETENTION_DAYS = 100 * 365
#: data subjects or records in one volume row: a trillion is past any processing, and a million rows of it still sum
#: within the BIGINT of the impact totals
MAX_COUNT = 10**12


class Problems:
    """Collects problems for one import; raises them together so one run shows them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, line: int | None, where: str, message: str) -> None:
        """`file` empty means a form or an API body: there the field name alone locates the problem."""
        if len(self.items) < MAX_PROBLEMS:
            place = f"{file}:{line if line is not None else '?'}: " if file else ""
            self.items.append(f"{place}{where}: {message}")
        elif len(self.items) == MAX_PROBLEMS:
            self.items.append("... further problems not listed")

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


class LineDict(dict):
    """A YAML mapping that remembers the line it starts on and the line of each of its fields."""

    line: int = 0
    field_lines: dict[str, int] = {}

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    mapping = LineDict(loader.construct_pairs(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.field_lines = {
        key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)
    }
    return mapping


#: far past any number a field holds; a longer one is refused as it is read, since Python's int() and repr() refuse
#: numbers of more than 4,300 digits
MAX_NUMBER_DIGITS = 100


def _construct_int(loader, node):
    if len(node.value) > MAX_NUMBER_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of more than {MAX_NUMBER_DIGITS} digits", node.start_mark
        )
    return loader.construct_yaml_int(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


#: bounds checked before any Python object is built: an inventory of ten thousand customers is a few MB
MAX_STRUCTURE_CHARACTERS = 64 * 1024 * 1024
MAX_NODES = 2_000_000


def _refuse_expansion(text: str, file: str) -> None:
    """A few hundred bytes of aliases can expand into gigabytes ("billion laughs"): aliases are refused and
    the values counted from the parser's events, before anything is constructed."""
    if len(text) > MAX_STRUCTURE_CHARACTERS:
        raise ValidationFailed([f"{file}:?: size: longer than {MAX_STRUCTURE_CHARACTERS:,} characters"])
    nodes = (event for event in yaml.parse(text, Loader=_LineLoader) if isinstance(event, yaml.NodeEvent))
    for count, node in enumerate(nodes, start=1):
        line = node.start_mark.line + 1
        if isinstance(node, yaml.AliasEvent):
            raise ValidationFailed(
                [f"{file}:{line}: syntax: aliases (*{node.anchor}) are not accepted; write the value out"]
            )
        if count > MAX_NODES:
            raise ValidationFailed([f"{file}:{line}: size: more than {MAX_NODES:,} values"])


def load_yaml(text: str, file: str) -> Any:
    try:
        _refuse_expansion(text, file)
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ValidationFailed([f"{file}:{mark.line + 1 if mark else '?'}: syntax: {error.problem}"]) from None
    except yaml.YAMLError as error:
        raise ValidationFailed([f"{file}:?: syntax: {error}"]) from None


@dataclass(frozen=True)
class Field:
    kind: type
    required: bool = False
    default: Any = None
    check: Callable[[Any], str | None] | None = None
    choices: type[enum.StrEnum] | None = None
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None
    item_check: Callable[[Any], str | None] | None = None


CONTACT = {
    "role": Field(str, required=True, choices=ContactRole),
    "name": Field(str, required=True),
    "email": Field(str, required=True, check=rules.email_problem, max_length=254),
}
CUSTOMER = {
    "key": Field(str, required=True, check=rules.key_problem),
    "name": Field(str, required=True),
    "country": Field(str, required=True, check=rules.country_problem),
    "language": Field(str, default="en", choices=Language),
    "time_zone": Field(str, default="UTC", check=rules.time_zone_problem),
    "notice_terms": Field(str, default="contract_hours", choices=NoticeTerms),
    "notice_hours": Field(int, default=24, minimum=1, maximum=MAX_NOTICE_HOURS),
    # the regulated statuses that regimes test (deadlines/rules.yaml `customer_status`)
    "hipaa_covered_entity": Field(bool, default=False),
    "financial_entity": Field(bool, default=False),
    "contacts": Field(list, default=()),
}
SYSTEM = {
    "key": Field(str, required=True, check=rules.key_problem),
    "name": Field(str, required=True),
    "is_subprocessor": Field(bool, default=False),
    "vendor": Field(str, default=""),
    "hosting_country": Field(str, default="", check=lambda v: rules.country_problem(v, allow_empty=True)),
    "hosting_region": Field(str, default="", max_length=100),
    "encrypted_at_rest": Field(bool, default=False),
    "description": Field(str, default="", max_length=5000),
}
ACTIVITY = {
    "key": Field(str, required=True, check=rules.key_problem),
    "name": Field(str, required=True),
    "role": Field(str, required=True, choices=OurRole),
    "purpose": Field(str, default="", max_length=5000),
    "legal_basis": Field(str, choices=LegalBasis),
    "retention_days": Field(int, minimum=0, maximum=MAX_RETENTION_DAYS),
    "retention_note": Field(str, default="", max_length=300),
    "transfers": Field(list, default=()),
    "systems": Field(list, default=(), item_check=rules.key_problem),
    # None (absent) keeps the existing links; a list replaces them
    "customers": Field(list, default=None, item_check=rules.key_problem),
    "data_categories": Field(list, default=(), item_check=rules.data_category_problem),
    "data_subject_categories": Field(list, default=(), item_check=rules.subject_category_problem),
}
ORGANISATION = {
    "name": Field(str, required=True),
    "country": Field(str, required=True, check=rules.country_problem),
    "lead_supervisory_authority": Field(str, default=""),
    "regimes": Field(list, default=(), item_check=rules.regime_problem),
    "authorities": Field(dict, default={}, check=rules.regime_map_problem),
    "entity_status": Field(dict, default={}, check=rules.regime_map_problem),
    "undue_delay_target_hours": Field(int, default=72, minimum=1, maximum=MAX_NOTICE_HOURS),
    "dpo_name": Field(str, default=""),
    "dpo_email": Field(str, default="", max_length=254, check=lambda v: rules.email_problem(v) if v else None),
}
TRANSFER = {
    "country": Field(str, required=True, check=rules.country_problem),
    "safeguard": Field(str, default=""),
}


@dataclass
class Record:
    """A validated entry, plus where it came from for later cross-reference errors."""

    values: dict[str, Any]
    line: int
    section: str
    children: dict[str, list["Record"]] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        return self.field_lines.get(name, self.line)


def _fresh(default: Any) -> Any:
    return dict(default) if isinstance(default, dict) else default


def _type_ok(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def validate_record(
    raw: Any, spec: dict[str, Field], file: str, where: str, problems: Problems, line: int | None = None
) -> Record | None:
    line = getattr(raw, "line", line)
    if not isinstance(raw, dict):
        problems.add(file, line, where, "expected a mapping of field: value")
        return None
    values: dict[str, Any] = {}
    line_of = raw.line_of if isinstance(raw, LineDict) else (lambda _name: line)
    for name in sorted(raw.keys() - spec.keys(), key=str):
        problems.add(file, line_of(name), f"{where}.{name}", f"unknown field (known: {', '.join(spec)})")
    for name, rule in spec.items():
        value = raw.get(name)
        label = f"{where}.{name}"
        field_line = line_of(name)
        if value is None:
            if rule.required:
                problems.add(file, line, label, "is required")
            values[name] = list(rule.default) if isinstance(rule.default, tuple) else _fresh(rule.default)
            continue
        if not _type_ok(value, rule.kind):
            problems.add(
                file, field_line, label, f"expected {rule.kind.__name__}, got {type(value).__name__} {value!r}"
            )
        elif problem := _value_problem(value, rule):
            problems.add(file, field_line, label, problem)
        else:
            values[name] = value
    return Record(values, line or 0, where, field_lines=getattr(raw, "field_lines", {}))


def _value_problem(value: Any, rule: Field) -> str | None:
    """What is wrong with a value of the right type, in words, or None."""
    if rule.kind is str and len(value) > rule.max_length:
        return f"longer than {rule.max_length} characters"
    if rule.kind is str and "\x00" in value:
        return "contains a NUL character"  # a YAML "\0" or a JSON "\u0000": PostgreSQL text cannot hold one
    if rule.choices is not None and value not in {c.value for c in rule.choices}:
        return f"{value!r} is not one of {', '.join(c.value for c in rule.choices)}"
    if rule.minimum is not None and value < rule.minimum:
        return f"must be at least {rule.minimum}"
    if rule.maximum is not None and value > rule.maximum:
        return f"must be at most {rule.maximum:,}"
    if rule.check is not None:
        return rule.check(value)
    if rule.item_check is not None:
        return _list_problem(value, rule.item_check)
    return None


def count_problem(text: str, largest: int) -> str | None:
    """What is wrong with `text` as a whole number from 0 to `largest`, or None. Its digits are counted before it is
    converted: int() takes "²", and refuses a number of more than 4,300 digits."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        return f"{text!r} is not a whole number >= 0"
    if len(digits.lstrip("0")) > len(str(largest)) or int(digits) > largest:
        return f"must be at most {largest:,}"
    return None


def _list_problem(items: list, item_check) -> str | None:
    for item in items:
        if problem := item_check(item) if isinstance(item, str) else f"{item!r} is not a string":
            return problem
    return "lists an entry twice" if len(set(items)) != len(items) else None


def validate_section(
    raw_list: Any, spec: dict[str, Field], file: str, section: str, problems: Problems, line: int | None
) -> list[Record]:
    """Validate a list of entries and refuse duplicate keys within the file."""
    if raw_list is None:
        return []
    if not isinstance(raw_list, list):
        problems.add(file, line, section, "expected a list")
        return []
    records, seen = [], {}
    for index, raw in enumerate(raw_list):
        key = raw.get("key") if isinstance(raw, dict) else None
        where = f"{section}[{key if isinstance(key, str) else index}]"
        record = validate_record(raw, spec, file, where, problems, line)
        if record is None:
            continue
        if isinstance(key, str):
            if key in seen:
                problems.add(
                    file,
                    raw.line_of("key") if isinstance(raw, LineDict) else record.line,
                    f"{where}.key",
                    f"duplicate key (first on line {seen[key]})",
                )
                continue
            seen[key] = record.line
        records.append(record)
    return records
