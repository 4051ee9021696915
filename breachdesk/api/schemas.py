"""JSON Schemas of the API, used for the OpenAPI document and by the tests to check real answers."""

from breachdesk.incidents.models import Cause, IncidentStatus, Nature

INSTANT = {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset; naive times are refused"}
NULLABLE_INSTANT = {**INSTANT, "nullable": True}
KEYS = {"type": "array", "items": {"type": "string"}}

INCIDENT_INPUT = {
    "type": "object", "additionalProperties": False, "required": ["title", "aware_at", "systems"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "aware_at": {**INSTANT, "description": "When we became aware: starts every notification clock"},
        "systems": {**KEYS, "minItems": 1, "description": "System keys from the inventory"},
        "nature": {"type": "array", "items": {"type": "string", "enum": [n.value for n in Nature]}},
        "description": {"type": "string", "maxLength": 20000},
        "detected_at": INSTANT, "occurred_from": INSTANT, "occurred_to": INSTANT,
        "cause": {"type": "string", "enum": [c.value for c in Cause]},
        "data_categories": {**KEYS, "description": "Fides data category keys, when only some were touched"},
        "encrypted": {"type": "boolean"}, "key_compromised": {"type": "boolean"},
        "containment": {"type": "string", "maxLength": 20000},
        "owner_id": {"type": "integer"},
    },
}

CUSTOMER_IMPACT = {
    "type": "object", "required": ["key", "name", "data_subjects", "records", "data_categories", "sensitivity",
                                   "paths"],
    "properties": {
        "key": {"type": "string"}, "name": {"type": "string"},
        "data_subjects": {"type": "object", "additionalProperties": {"type": "integer"},
                          "description": "people per data subject category"},
        "records": {"type": "integer"},
        "data_categories": KEYS,
        "sensitivity": {"type": "integer", "minimum": 0, "maximum": 4,
                        "description": "ENISA class: 1 simple, 2 behavioural, 3 financial, 4 sensitive"},
        "paths": {"type": "array", "items": {"type": "object", "properties": {
            "systems": KEYS, "activity": {"type": "string"}, "data_categories": KEYS}}},
        "counts_unknown": {"type": "boolean"},
    },
}

TOTALS = {"type": "object", "properties": {k: {"type": "integer"} for k in
                                           ("customers", "data_subjects", "records", "activities")}}

IMPACT = {
    "type": "object", "nullable": True, "required": ["customers", "totals"],
    "properties": {
        "computed_at": INSTANT, "stale": {"type": "array", "items": {"type": "string"}},
        "customers": {"type": "array", "items": CUSTOMER_IMPACT},
        "controller_activities": {"type": "array", "items": {"type": "object"}},
        "totals": TOTALS,
    },
}

INCIDENT_SUMMARY_PROPERTIES = {
    "id": {"type": "integer"}, "title": {"type": "string"}, "status": {"type": "string",
                                                                      "enum": [s.value for s in IncidentStatus]},
    "aware_at": INSTANT, "systems": KEYS, "nature": KEYS, "url": {"type": "string"},
}

INCIDENT = {
    "type": "object", "required": ["id", "title", "aware_at", "systems", "status", "impact"],
    "properties": {
        **INCIDENT_SUMMARY_PROPERTIES,
        "description": {"type": "string"}, "detected_at": NULLABLE_INSTANT, "occurred_from": NULLABLE_INSTANT,
        "occurred_to": NULLABLE_INSTANT, "cause": {"type": "string", "nullable": True},
        "data_categories": KEYS, "encrypted": {"type": "boolean", "nullable": True},
        "key_compromised": {"type": "boolean", "nullable": True}, "containment": {"type": "string"},
        "created_at": INSTANT, "impact": IMPACT,
    },
}

INCIDENT_LIST = {
    "type": "object", "required": ["items", "page", "per_page", "total"],
    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": INCIDENT_SUMMARY_PROPERTIES}},
                   "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
                   "pages": {"type": "integer"}},
}

IMPORT_SUMMARY = {"type": "object", "properties": {
    "created": {"type": "object", "additionalProperties": {"type": "integer"}},
    "updated": {"type": "object", "additionalProperties": {"type": "integer"}}}}

ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string", "description": "what is wrong, naming the field"},
    "problems": {"type": "array", "items": {"type": "string"}}}}


def as_json_schema(schema):
    """OpenAPI 3.0's `nullable` spelled as JSON Schema, for validating real answers in tests."""
    if isinstance(schema, list):
        return [as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: as_json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted
