"""Importing an inventory (our YAML + CSV format, or a Fides manifest) in one all-or-nothing transaction.

The caller commits; any problem raises ValidationFailed before that, so the database is unchanged.
Volume rows go through `volumes.import_volumes`, in memory that does not grow with the file.
"""

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from breachdesk.audit.services import record as audit
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.progress import NoProgress, Progress
from breachdesk.core.signals import organisation_changed
from breachdesk.extensions import db
from breachdesk.inventory import fileformat as ff
from breachdesk.inventory.models import (
    ActivityDataCategory,
    ActivitySubjectCategory,
    Contact,
    Customer,
    Organisation,
    OurRole,
    ProcessingActivity,
    System,
    Volume,
)
from breachdesk.inventory.taxonomy import sensitivity_of
from breachdesk.inventory.volumes import import_volumes

log = logging.getLogger(__name__)

BATCH = 5000


@dataclass
class Structure:
    customers: list[ff.Record] = field(default_factory=list)
    systems: list[ff.Record] = field(default_factory=list)
    activities: list[ff.Record] = field(default_factory=list)
    volumes_path: str | None = None
    #: who we are (regimes, authorities); None keeps the stored profile
    organisation: ff.Record | None = None


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated}

    def __str__(self) -> str:
        parts = [f"{n} {kind} created" for kind, n in self.created.items() if n]
        parts += [f"{n} {kind} updated" for kind, n in self.updated.items() if n]
        return ", ".join(parts) or "nothing changed"


# --- reading the structure ----------------------------------------------------------------


def parse_structure(content: str, file: str) -> Structure:
    """Our format or a Fides manifest (recognised by its top-level `system` list)."""
    doc = ff.load_yaml(content, file)
    problems = ff.Problems()
    if not isinstance(doc, dict):
        raise ValidationFailed([f"{file}:1: document: expected a mapping with customers, systems, activities"])
    if "system" in doc:
        structure = _parse_fides(doc, file, problems)
    else:
        structure = _parse_ours(doc, file, problems)
    problems.raise_if_any()
    return structure


def _parse_ours(doc: ff.LineDict, file: str, problems: ff.Problems) -> Structure:
    known = {"format", "organisation", "customers", "systems", "activities", "volumes"}
    for name in doc.keys() - known:
        problems.add(file, doc.line, name, f"unknown section (known: {', '.join(sorted(known))})")
    if doc.get("format") != ff.FORMAT:
        problems.add(file, doc.line, "format", f"must be {ff.FORMAT!r}")
    customers = ff.validate_section(doc.get("customers"), ff.CUSTOMER, file, "customers", problems, doc.line)
    for customer in customers:
        customer.children["contacts"] = _children(customer, "contacts", ff.CONTACT, file, problems)
    systems = ff.validate_section(doc.get("systems"), ff.SYSTEM, file, "systems", problems, doc.line)
    activities = ff.validate_section(doc.get("activities"), ff.ACTIVITY, file, "activities", problems, doc.line)
    for activity in activities:
        transfers = _children(activity, "transfers", ff.TRANSFER, file, problems)
        activity.values["transfers"] = [t.values for t in transfers]
        if activity.values.get("role") == OurRole.CONTROLLER and activity.values.get("customers"):
            problems.add(
                file,
                activity.line_of("customers"),
                f"{activity.section}.customers",
                "a controller activity processes for no customer",
            )
    volumes = doc.get("volumes")
    if volumes is not None and not isinstance(volumes, str):
        problems.add(file, doc.line, "volumes", "expected the path of a CSV file")
    organisation = None
    if doc.get("organisation") is not None:
        organisation = ff.validate_record(
            doc["organisation"], ff.ORGANISATION, file, "organisation", problems, doc.line_of("organisation")
        )
    return Structure(customers, systems, activities, volumes, organisation)


def _children(parent: ff.Record, name: str, spec, file: str, problems: ff.Problems) -> list[ff.Record]:
    raws = parent.values.get(name) or []
    children = []
    for index, raw in enumerate(raws):
        child = ff.validate_record(raw, spec, file, f"{parent.section}.{name}[{index}]", problems, parent.line)
        if child:
            children.append(child)
    return children


_FIDES_LEGAL_BASIS = {
    "consent": "consent",
    "contract": "contract",
    "legal obligations": "legal_obligation",
    "vital interests": "vital_interests",
    "public interest": "public_task",
    "legitimate interests": "legitimate_interests",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "declaration"


def _parse_fides(doc: ff.LineDict, file: str, problems: ff.Problems) -> Structure:
    """Systems with privacy declarations, validated by fideslang; each declaration becomes an activity."""
    from fideslang.models import System as FidesSystem

    systems, activities = [], []
    raw_systems = doc.get("system")
    if not isinstance(raw_systems, list):
        problems.add(file, doc.line, "system", "expected a list of Fides systems")
        return Structure()
    for index, raw in enumerate(raw_systems):
        line = getattr(raw, "line", doc.line)
        try:
            fides = FidesSystem.model_validate(raw)
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(p) for p in detail["loc"])
                problems.add(file, line, f"system[{index}].{where}", detail["msg"])
            continue
        meta = fides.meta or {}
        system_raw = ff.LineDict(
            key=fides.fides_key.replace("_", "-").lower(),
            name=fides.name or fides.fides_key,
            is_subprocessor="Sub-Processor" in [str(r) for r in (fides.responsibility or [])],
            vendor=fides.legal_name or "",
            description=fides.description or "",
            hosting_country=meta.get("hosting_country", ""),
            hosting_region=meta.get("hosting_region", ""),
            encrypted_at_rest=bool(meta.get("encrypted_at_rest", False)),
        )
        system_raw.line = line
        system = ff.validate_record(system_raw, ff.SYSTEM, file, f"system[{fides.fides_key}]", problems)
        if system is None:
            continue
        systems.append(system)
        controller = any("Controller" in str(r) for r in (fides.responsibility or []))
        for declaration in fides.privacy_declarations:
            name = declaration.name or declaration.data_use
            where = f"system[{fides.fides_key}].privacy_declarations[{name}]"
            retention_days, retention_note = _fides_retention(declaration.retention_period, file, line, where, problems)
            basis = _FIDES_LEGAL_BASIS.get((declaration.legal_basis_for_processing or "").lower())
            activity_raw = ff.LineDict(
                key=f"{system.values['key']}.{_slug(name)}"[:64],
                name=name,
                purpose=declaration.data_use,
                role="controller" if controller else "processor",
                legal_basis=basis,
                retention_days=retention_days,
                retention_note=retention_note,
                systems=[system.values["key"]],
                data_categories=list(declaration.data_categories),
                data_subject_categories=list(declaration.data_subjects),
            )
            activity_raw.line = line
            activity = ff.validate_record(activity_raw, ff.ACTIVITY, file, where, problems)
            if activity:
                activities.append(activity)
    return Structure([], systems, activities)


def _fides_retention(
    period: str | None, file: str, line: int, where: str, problems: ff.Problems
) -> tuple[int | None, str]:
    """(days, note): a retention period in whole days ("395") gives the days, any other text ("until the account is
    closed") the note."""
    if not period or not (period.isascii() and period.isdigit()):
        return None, period or ""
    if problem := ff.count_problem(period, ff.MAX_RETENTION_DAYS):
        problems.add(file, line, f"{where}.retention_period", problem)
        return None, ""
    return int(period), ""


# --- writing the structure ---------------------------------------------------------------------

# Collections compared on import, loaded up front: one query per collection, not one per entry.
_EAGER = {
    Customer: (Customer.contacts,),
    # not the customers: they can number thousands per activity and are compared only when a file lists them
    ProcessingActivity: (
        ProcessingActivity.systems,
        ProcessingActivity.data_categories,
        ProcessingActivity.subject_categories,
    ),
}


def _existing(model, keys: Iterable[str]) -> dict[str, Any]:
    keys = list(keys)
    found = {}
    options = [selectinload(attribute) for attribute in _EAGER.get(model, ())]
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        query = select(model).where(model.key.in_(chunk)).options(*options)
        found.update({obj.key: obj for obj in db.session.scalars(query)})
    return found


def _assign(obj: Any, values: dict[str, Any], names: Iterable[str]) -> bool:
    changed = False
    for name in names:
        if getattr(obj, name) != values[name]:
            setattr(obj, name, values[name])
            changed = True
    return changed


def _upsert(
    model, records: list[ff.Record], names: list[str], summary: ImportSummary, kind: str, progress: Progress
) -> dict[str, Any]:
    existing = _existing(model, (r.values["key"] for r in records))
    created = updated = 0
    progress.start(f"{kind:<10}", len(records))
    for record in records:
        obj = existing.get(record.values["key"])
        if obj is None:
            obj = model(key=record.values["key"])
            db.session.add(obj)
            existing[obj.key] = obj
            created += 1
            _assign(obj, record.values, names)
        elif _assign(obj, record.values, names):
            updated += 1
        record.values["_obj"] = obj
        progress.advance(1)
    progress.finish()
    summary.created[kind], summary.updated[kind] = created, updated
    return existing


def _resolve(model, keys: set[str], known: dict[str, Any]) -> dict[str, Any]:
    missing = keys - known.keys()
    return {**known, **_existing(model, missing)} if missing else known


def _apply_organisation(values: dict[str, Any], summary: ImportSummary) -> None:
    organisation = db.session.get(Organisation, 1)
    kind = summary.updated
    if organisation is None:
        organisation = Organisation(id=1)
        db.session.add(organisation)
        kind = summary.created
    if _assign(organisation, values, ff.ORGANISATION):
        kind["organisation"] = 1


def apply_structure(structure: Structure, file: str, progress: Progress, summary: ImportSummary) -> None:
    # one flush at the end, so each new entry is audited once, complete with its links
    with db.session.no_autoflush:
        _apply_structure(structure, file, progress, summary)
    db.session.flush()


def _apply_structure(structure: Structure, file: str, progress: Progress, summary: ImportSummary) -> None:
    problems = ff.Problems()
    if structure.organisation is not None:
        _apply_organisation(structure.organisation.values, summary)
    customer_fields = [n for n in ff.CUSTOMER if n not in ("key", "contacts")]
    customers = _upsert(Customer, structure.customers, customer_fields, summary, "customers", progress)
    for record in structure.customers:
        customer = record.values["_obj"]
        wanted = [(c.values["role"], c.values["name"], c.values["email"]) for c in record.children["contacts"]]
        if [(str(c.role), c.name, c.email) for c in customer.contacts] != wanted:
            customer.contacts = [Contact(role=r, name=n, email=e) for r, n, e in wanted]
    systems = _upsert(System, structure.systems, [n for n in ff.SYSTEM if n != "key"], summary, "systems", progress)
    activity_fields = ["name", "role", "purpose", "legal_basis", "retention_days", "retention_note", "transfers"]
    _upsert(ProcessingActivity, structure.activities, activity_fields, summary, "activities", progress)
    systems = _resolve(System, {k for a in structure.activities for k in a.values["systems"]}, systems)
    customers = _resolve(Customer, {k for a in structure.activities for k in a.values["customers"] or ()}, customers)
    kept = _links_with_volume_rows(structure.activities)
    for record in structure.activities:
        activity = record.values["_obj"]
        for name, pool in (("systems", systems), ("customers", customers)):
            if record.values[name] is None:
                continue  # not given: keep the links (volume rows link customers to their activities)
            unknown = [k for k in record.values[name] if k not in pool]
            for key in unknown:
                problems.add(file, record.line_of(name), f"{record.section}.{name}", f"unknown {name[:-1]} {key!r}")
            wanted = {k: pool[k] for k in record.values[name] if k in pool}
            current = getattr(activity, name)
            if name == "customers":
                wanted |= {c.key: c for c in current if (activity.id, c.id) in kept}
            if sorted(o.key for o in current) != sorted(wanted):
                setattr(activity, name, [wanted[k] for k in sorted(wanted)])
        categories = sorted(record.values["data_categories"])
        if sorted(c.data_category for c in activity.data_categories) != categories:
            activity.data_categories = [
                ActivityDataCategory(data_category=c, sensitivity=int(sensitivity_of(c))) for c in categories
            ]
        subjects = sorted(record.values["data_subject_categories"])
        if sorted(s.data_subject_category for s in activity.subject_categories) != subjects:
            activity.subject_categories = [ActivitySubjectCategory(data_subject_category=s) for s in subjects]
    problems.raise_if_any()


def _links_with_volume_rows(activities: list[ff.Record]) -> set[tuple[int, int]]:
    """(activity id, customer id) of the links that a file or form would drop but that have volume rows
    behind them. They stay, whatever the list says (volume rows link their customer, as on import): the
    database refuses a customer's volume row without its link, and the impact query finds an activity's
    customers from the links alone. One query per batch of activities."""
    dropped: dict[int, list[int]] = {}
    for record in activities:
        activity, listed = record.values["_obj"], record.values["customers"]
        if listed is not None and activity.id is not None:
            dropped[activity.id] = [c.id for c in activity.customers if c.key not in listed]
    ids = [i for i, customer_ids in dropped.items() if customer_ids]
    kept: set[tuple[int, int]] = set()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        kept.update(
            db.session.execute(
                select(Volume.activity_id, Volume.customer_id)
                .distinct()
                .where(Volume.activity_id.in_(chunk), Volume.customer_id.in_({c for i in chunk for c in dropped[i]}))
            ).tuples()
        )
    return kept  # may hold pairs no list dropped: their customer is wanted anyway


# --- the whole import ---------------------------------------------------------------------


def import_inventory(
    structure: tuple[str, str] | None = None,
    volumes: tuple[str, IO[bytes], int] | None = None,
    progress: Progress | None = None,
    volumes_dir: Path | None = None,
) -> ImportSummary:
    """structure: (file name, text); volumes: (file name, binary stream, size in bytes).

    With `volumes_dir`, a structure's own `volumes:` entry is opened from that folder when no volumes
    file is given (the CLI); uploads pass none, so a path inside an uploaded file is never followed.
    """
    progress = progress or NoProgress()
    summary = ImportSummary()
    audit_after: dict[str, Any] = {}
    if structure:
        name, content = structure
        parsed = parse_structure(content, name)
        apply_structure(parsed, name, progress, summary)
        if summary.created.get("organisation") or summary.updated.get("organisation"):
            organisation_changed.send()  # open incidents re-derive what they owe
        audit_after["structure"] = {"file": name, "sha256": hashlib.sha256(content.encode()).hexdigest()}
        if volumes is None and volumes_dir is not None and parsed.volumes_path:
            path = volumes_dir / parsed.volumes_path
            if not path.is_file():
                raise ValidationFailed([f"{name}:?: volumes: no such file {str(path)!r}"])
            with path.open("rb") as stream:
                return _finish(summary, audit_after, (path.name, stream, path.stat().st_size), progress)
    return _finish(summary, audit_after, volumes, progress)


def _finish(summary: ImportSummary, audit_after: dict[str, Any], volumes, progress: Progress) -> ImportSummary:
    if volumes:
        name, stream, size = volumes
        digest = import_volumes(stream, name, size, progress, summary)
        audit_after["volumes"] = {"file": name, "sha256": digest}
    audit(db.session, "import", "inventory", "inventory", after={**audit_after, **summary.as_dict()})
    log.info("inventory import: %s%s", summary, f" (volumes file: {volumes[2]} bytes)" if volumes else "")
    return summary
