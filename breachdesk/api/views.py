"""API v1 routes. Bearer-token only (a browser session does not count, so no CSRF exposure)."""

import io
from functools import partial
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from breachdesk.api import schemas
from breachdesk.api.openapi import build, operation
from breachdesk.assessments import services as assessments
from breachdesk.core.access import EVERYONE, PRIVACY_TEAM, PUBLIC, RESPONDERS, allow
from breachdesk.core.clock import now_utc, parse_day
from breachdesk.core.db import MAX_PAGE
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.models import Obligation
from breachdesk.deadlines.obligations import PER_CUSTOMER
from breachdesk.deadlines.rules import Terms
from breachdesk.deadlines.services import obligations_in_order
from breachdesk.extensions import csrf, db
from breachdesk.impact import services as impact
from breachdesk.impact.models import ImpactCustomer
from breachdesk.incidents import queries, services
from breachdesk.incidents.models import Incident, IncidentEvent, IncidentStatus
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.regions import named_regions

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: incident bodies are small; a larger one is refused before it is parsed
MAX_INCIDENT_BODY = 64 * 1024


def _error(status: int, message: str, problems: list[str] | None = None):
    body: dict[str, Any] = {"error": message}
    if problems:
        body["problems"] = problems
    return jsonify(body), status


def _http_error(error: HTTPException):
    db.session.rollback()
    return _error(error.code or 500, error.description or error.name)


# Flask prefers the app's handler for a specific code over a blueprint's handler for a class, so the API
# registers every code the app renders as HTML.
for _code in (400, 401, 403, 404, 405, 413, 429, 500):
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.errorhandler(ValidationFailed)
def _invalid(error: ValidationFailed):
    db.session.rollback()
    return _error(422, str(error), error.problems)


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    db.session.rollback()
    return _error(422, str(error))


def _json_body(limit: int) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge(limit)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise _TooLarge(limit)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(["body: expected a JSON object (Content-Type: application/json)"])
    if fields := _fields_with_nul(body):
        raise ValidationFailed([f"{field}: contains a NUL character" for field in fields])
    return body


def _fields_with_nul(value: Any, field: str = "") -> list[str]:
    """Where the JSON holds a NUL character, as `title`, `systems[1]`, `decision.rationale`: PostgreSQL text
    cannot hold one, so it is refused here, naming the field, rather than by the database."""
    if isinstance(value, str):
        return [field or "body"] if "\x00" in value else []
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _fields_with_nul(item, f"{field}[{index}]")]
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _fields_with_nul(key, field) + _fields_with_nul(item, f"{field}.{key}" if field else key)
        ]
    return []


class _TooLarge(HTTPException):
    code = 413

    def __init__(self, limit: int):
        super().__init__(f"body: larger than {limit} bytes")


def _instant(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status.value,
        "aware_at": _instant(incident.aware_at),
        "systems": [s.key for s in incident.systems],
        "nature": incident.nature,
        "url": url_for("api.incident", incident_id=incident.id),
    }


def obligation_document(obligation: Obligation, now) -> dict[str, Any]:
    return {
        "id": obligation.id,
        "rule": obligation.rule_id,
        "recipient_kind": obligation.recipient_kind,
        "recipient": obligation.recipient_key
        if obligation.customer_id or obligation.recipient_kind in PER_CUSTOMER
        else obligation.recipient,
        "regime": obligation.regime,
        "stage": obligation.stage,
        "anchor": obligation.anchor,
        "clock_start": _instant(obligation.clock_start),
        "due_at": _instant(obligation.due_at),
        "target_at": _instant(obligation.target_at),
        "status": obligation.shown_status(now),
        "source": obligation.source,
        "period": Terms.from_dict(obligation.terms).describe(),
        "flag": obligation.flag or None,
        "triggered_by": obligation.triggered_by,
        "sent_at": _instant(obligation.sent_at),
        "late_by_seconds": obligation.late_by_seconds,
        "decided_by": obligation.decided_by or None,
        "rationale": obligation.rationale or None,
    }


def event_document(event: IncidentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "stage": event.stage,
        "at": _instant(event.occurred_at),
        "note": event.note,
        "reference": event.reference,
        "recorded_by": event.recorded_by.username if event.recorded_by else None,
    }


def incident_document(incident: Incident) -> dict[str, Any]:
    """The incident with its impact's totals and the first page of its affected customers and of its obligations:
    the answer's size does not grow with the customers; the rest is a page of /customers or /obligations away."""
    now = now_utc()
    snapshot = impact.current_snapshot(incident.id)
    impact_doc = None
    if snapshot is not None:
        customers, customers_page = _first_page(
            queries.affected_customers(snapshot.id), ImpactCustomer.as_dict, "api.incident_customers", incident.id
        )
        impact_doc = {
            "computed_at": _instant(snapshot.computed_at),
            "stale": impact.stale_reasons(incident, snapshot),
            "customers": customers,
            "customers_page": customers_page,
            "controller_activities": snapshot.own,
            "controller_regions": named_regions(snapshot.own_regions),
            "totals": snapshot.totals,
        }
    obligations, obligations_page = _first_page(
        obligations_in_order(incident.id),
        partial(obligation_document, now=now),
        "api.incident_obligations",
        incident.id,
    )
    return {
        **_summary(incident),
        "description": incident.description,
        "detected_at": _instant(incident.detected_at),
        "occurred_from": _instant(incident.occurred_from),
        "occurred_to": _instant(incident.occurred_to),
        "cause": incident.cause.value if incident.cause else None,
        "data_categories": incident.data_categories,
        "encrypted": incident.encrypted,
        "key_compromised": incident.key_compromised,
        "containment": incident.containment,
        "created_at": _instant(incident.created_at),
        "impact": impact_doc,
        "assessment": assessments.as_dict(assessment, incident)
        if (assessment := assessments.assessment_of(incident.id))
        else None,
        "obligations": obligations,
        "obligations_page": obligations_page,
        "events": [event_document(e) for e in queries.events_of(incident.id)],
    }


def _first_page(query, document, endpoint: str, incident_id: int) -> tuple[list[dict], dict[str, Any]]:
    """The first page of a list an incident's answer carries (PAGE_SIZE rows), and where the next one is."""
    page = db.paginate(query, page=1, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    following = url_for(endpoint, incident_id=incident_id, page=2, per_page=page.per_page) if page.has_next else None
    return [document(row) for row in page.items], {
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "next": following,
    }


@bp.post("/incidents")
@allow(RESPONDERS)
@operation(
    "File an incident; its impact is computed at once",
    request=schemas.INCIDENT_INPUT,
    response=schemas.INCIDENT,
    status="201",
    errors=("401", "403", "413", "422"),
)
def create_incident():
    incident = services.open_incident(_json_body(MAX_INCIDENT_BODY), current_user.id)
    db.session.commit()
    response = jsonify(incident_document(incident))
    response.status_code = 201
    response.headers["Location"] = url_for("api.incident", incident_id=incident.id)
    return response


MAX_PER_PAGE = 200

_PAGE_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": schema}
    for name, schema in (
        ("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
        ("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    )
]
_LIST_PARAMETERS = _PAGE_PARAMETERS + [
    {"name": name, "in": "query", "required": False, "schema": schema}
    for name, schema in (
        ("status", {"type": "string", "enum": [s.value for s in IncidentStatus]}),
        ("customer", {"type": "string"}),
        ("system", {"type": "string"}),
        ("aware_from", {"type": "string", "format": "date"}),
        ("aware_to", {"type": "string", "format": "date"}),
    )
]


@bp.get("/incidents")
@allow(EVERYONE)
@operation(
    "List incidents, newest awareness first",
    response=schemas.INCIDENT_LIST,
    parameters=_LIST_PARAMETERS,
    errors=("401", "422"),
)
def incidents():
    given = _arguments(request.args, _INCIDENT_FILTERS | _PAGE_ARGUMENTS)
    query = queries.incidents(
        status=given["status"] or "",
        customer=given["customer"] or "",
        system=given["system"] or "",
        aware_from=given["aware_from"],
        aware_to=given["aware_to"],
    )
    return jsonify(_page(query, _summary, given))


def _page(query, document, given: dict[str, Any]) -> dict[str, Any]:
    """One page of a list, as every list of the API answers it."""
    page = db.paginate(
        query,
        page=given["page"] or 1,
        per_page=given["per_page"] or current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return {
        "items": [document(row) for row in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


def _arguments(args, parsers: dict) -> dict[str, Any]:
    """A list's arguments, each checked (None when not given); every problem names its argument."""
    checked, problems = {}, []
    for name, parse in parsers.items():
        try:
            checked[name] = parse(args[name], name) if name in args else None
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValidationFailed(problems)
    return checked


def _filter_text(text: str, field: str) -> str:
    if "\x00" in text:
        raise ValueError(f"{field}: contains a NUL character")  # PostgreSQL text cannot hold one
    return text


def _status(text: str, field: str) -> str:
    """An unknown status is refused: an empty list would read as "no incident has it"."""
    if _filter_text(text, field) not in {s.value for s in IncidentStatus}:
        raise ValueError(f"{field}: {text!r} is not one of {', '.join(s.value for s in IncidentStatus)}")
    return text


def _whole_number(text: str, field: str, largest: int) -> int:
    """Digits only, and no more of them than `largest` has, so a huge number is refused before it is converted."""
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= len(str(largest)) else 0
    if not 1 <= number <= largest:
        raise ValueError(f"{field}: a whole number from 1 to {largest}")
    return number


_PAGE_ARGUMENTS = {
    "page": partial(_whole_number, largest=MAX_PAGE),
    "per_page": partial(_whole_number, largest=MAX_PER_PAGE),
}
_INCIDENT_FILTERS = {
    "status": _status,
    "customer": _filter_text,
    "system": _filter_text,
    "aware_from": parse_day,
    "aware_to": parse_day,
}


def _incident(incident_id: int) -> Incident:
    """The incident, or 404 naming the id (one past the database's integer range matches no route: core.web)."""
    return db.get_or_404(Incident, incident_id, description=f"incident_id: no incident {incident_id}")


@bp.get("/incidents/<int:incident_id>")
@allow(EVERYONE)
@operation("An incident with its impact", response=schemas.INCIDENT, errors=("401", "404"))
def incident(incident_id: int):
    return jsonify(incident_document(_incident(incident_id)))


@bp.get("/incidents/<int:incident_id>/customers")
@allow(EVERYONE)
@operation(
    "The incident's affected customers, a page at a time, by name",
    response=schemas.CUSTOMER_LIST,
    parameters=_PAGE_PARAMETERS,
    errors=("401", "404", "422"),
)
def incident_customers(incident_id: int):
    incident = _incident(incident_id)
    given = _arguments(request.args, _PAGE_ARGUMENTS)
    snapshot = impact.current_snapshot(incident.id)
    query = queries.affected_customers(snapshot.id if snapshot else 0)  # not computed yet: no customer
    return jsonify(_page(query, ImpactCustomer.as_dict, given))


@bp.get("/incidents/<int:incident_id>/obligations")
@allow(EVERYONE)
@operation(
    "The incident's obligations, a page at a time, soonest due first",
    response=schemas.OBLIGATION_LIST,
    parameters=_PAGE_PARAMETERS,
    errors=("401", "404", "422"),
)
def incident_obligations(incident_id: int):
    incident = _incident(incident_id)
    given = _arguments(request.args, _PAGE_ARGUMENTS)
    return jsonify(_page(obligations_in_order(incident.id), partial(obligation_document, now=now_utc()), given))


@bp.put("/incidents/<int:incident_id>/assessment")
@allow(PRIVACY_TEAM)
@operation(
    "Assess the risk (ENISA) and decide who must be told; obligations follow at once",
    request=schemas.ASSESSMENT_INPUT,
    response=schemas.ASSESSMENT,
    errors=("401", "403", "404", "413", "422"),
)
def assessment(incident_id: int):
    incident = _incident(incident_id)
    saved = assessments.save_assessment(incident, _json_body(MAX_INCIDENT_BODY), current_user)
    db.session.commit()
    return jsonify(assessments.as_dict(saved, incident))


@bp.post("/incidents/<int:incident_id>/events")
@allow(PRIVACY_TEAM)
@operation(
    "Record a dated fact that anchors clocks: a determination, or a stage filed outside BreachDesk",
    request=schemas.EVENT_INPUT,
    response=schemas.EVENT,
    status="201",
    errors=("401", "403", "404", "413", "422"),
)
def events(incident_id: int):
    incident = _incident(incident_id)
    event = record_event(incident, _json_body(MAX_INCIDENT_BODY), current_user)
    db.session.commit()
    obligations, obligations_page = _first_page(
        obligations_in_order(incident.id),
        partial(obligation_document, now=now_utc()),
        "api.incident_obligations",
        incident.id,
    )
    response = jsonify({**event_document(event), "obligations": obligations, "obligations_page": obligations_page})
    response.status_code = 201
    return response


@bp.post("/inventory")
@allow(PRIVACY_TEAM)
@operation(
    "Import inventory (the breachdesk-inventory/1 format or a Fides manifest), all or nothing",
    request={
        "type": "object",
        "properties": {
            "structure": {"type": "string", "format": "binary"},
            "volumes": {"type": "string", "format": "binary"},
        },
    },
    request_types=("multipart/form-data",),
    response=schemas.IMPORT_SUMMARY,
    errors=("401", "403", "413", "422"),
)
def inventory():
    """multipart/form-data with `structure` (YAML/JSON) and/or `volumes` (CSV); or a YAML/JSON body."""
    structure = volumes = None
    if request.files:
        if upload := request.files.get("structure"):
            structure = (upload.filename or "structure", _text(upload.read(), upload.filename or "structure"))
        if upload := request.files.get("volumes"):
            data = upload.read()
            volumes = (upload.filename or "volumes.csv", io.BytesIO(data), len(data))
    elif request.content_length:
        structure = ("body", _text(request.get_data(), "body"))
    if structure is None and volumes is None:
        raise ValidationFailed(["body: send `structure` and/or `volumes` files, or the structure as the body"])
    summary = import_inventory(structure, volumes)
    db.session.commit()
    return jsonify(summary.as_dict())


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed([f"{name}:?: encoding: not UTF-8 text ({error.reason})"]) from None


@bp.get("/openapi.json")
@allow(PUBLIC)
def openapi():
    return jsonify(build(current_app))


def token_user(incoming):
    """Flask-Login request loader: the API authenticates by `Authorization: Bearer <token>` only."""
    from breachdesk.api.services import user_for

    header = incoming.headers.get("Authorization", "")
    if incoming.blueprint != "api" or not header.startswith("Bearer "):
        return None
    found = user_for(header.removeprefix("Bearer ").strip())
    if found is None:
        return None
    g.api_token = found[1]
    return found[0]
