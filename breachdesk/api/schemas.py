"""JSON Schemas of the API, used for the OpenAPI document and by the tests to check real answers."""

from breachdesk.core.db import MAX_ROW_ID
from breachdesk.deadlines.services import EVENT_KINDS
from breachdesk.incidents.models import Cause, IncidentStatus, Nature

#: a row's id: a larger number names no row
ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}

INSTANT = {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset; naive times are refused"}
NULLABLE_INSTANT = {**INSTANT, "nullable": True}
KEYS = {"type": "array", "items": {"type": "string"}}


def optional(schema: dict) -> dict:
    """An input field that may be left out or sent as null: the services read null as not given. (OpenAPI 3.0
    wants null among an enum's values too.)"""
    if "enum" in schema:
        return {**schema, "nullable": True, "enum": [*schema["enum"], None]}
    return {**schema, "nullable": True}


INCIDENT_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "aware_at", "systems"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "aware_at": {**INSTANT, "description": "When we became aware: starts every notification clock"},
        "systems": {**KEYS, "minItems": 1, "description": "System keys from the inventory"},
        "nature": optional({"type": "array", "items": {"type": "string", "enum": [n.value for n in Nature]}}),
        "description": optional({"type": "string", "maxLength": 20000}),
        "detected_at": NULLABLE_INSTANT,
        "occurred_from": NULLABLE_INSTANT,
        "occurred_to": NULLABLE_INSTANT,
        "cause": optional({"type": "string", "enum": [c.value for c in Cause]}),
        "data_categories": optional({**KEYS, "description": "Fides data category keys, when only some were touched"}),
        "encrypted": optional({"type": "boolean"}),
        "key_compromised": optional({"type": "boolean"}),
        "containment": optional({"type": "string", "maxLength": 20000}),
        "owner_id": optional({**ROW_ID, "description": "the user who owns the incident (default: whoever files it)"}),
    },
}

REGIONS = {
    "type": "object",
    "description": "where the affected people live: ISO 3166-1 country or 3166-2 subdivision code (or `unknown`) "
    "-> its people",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "the region in words, with its code"},
            "people": {"type": "integer"},
            "records": {"type": "integer"},
            "data_categories": KEYS,
            "counts_unknown": {"type": "boolean", "description": "some of them are not counted by the inventory"},
        },
    },
}

CUSTOMER_IMPACT = {
    "type": "object",
    "required": ["key", "name", "data_subjects", "records", "data_categories", "sensitivity", "paths"],
    "properties": {
        "key": {"type": "string"},
        "name": {"type": "string"},
        "data_subjects": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "people per data subject category",
        },
        "records": {"type": "integer"},
        "data_categories": KEYS,
        "sensitivity": {
            "type": "integer",
            "minimum": 0,
            "maximum": 4,
            "description": "ENISA class: 1 simple, 2 behavioural, 3 financial, 4 sensitive",
        },
        "paths": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"systems": KEYS, "activity": {"type": "string"}, "data_categories": KEYS},
            },
        },
        "counts_unknown": {"type": "boolean"},
        "regions": REGIONS,
    },
}

TOTALS = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in ("customers", "data_subjects", "records", "activities")},
}

FIRST_PAGE = {
    "type": "object",
    "required": ["per_page", "total", "pages", "next"],
    "description": "the list above is the first page of this many; `next` reads the second (null: none)",
    "properties": {
        "per_page": {"type": "integer"},
        "total": {"type": "integer"},
        "pages": {"type": "integer"},
        "next": {"type": "string", "nullable": True},
    },
}

IMPACT = {
    "type": "object",
    "nullable": True,
    "required": ["customers", "customers_page", "totals"],
    "properties": {
        "computed_at": INSTANT,
        "stale": {"type": "array", "items": {"type": "string"}},
        "customers": {
            "type": "array",
            "items": CUSTOMER_IMPACT,
            "description": "the first page, by name; GET /api/v1/incidents/{incident_id}/customers has them all",
        },
        "customers_page": FIRST_PAGE,
        "controller_activities": {"type": "array", "items": {"type": "object"}},
        "controller_regions": {**REGIONS, "description": "where the people of the controller-side activities live"},
        "totals": TOTALS,
    },
}

NUMBER_CHOICE = {"type": "number"}
DECISION_VALUE = {"type": "string", "enum": ["undecided", "required", "not_required"]}

ASSESSMENT_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ei"],
    "description": "ENISA 2013: severity = DPC x EI + CB. Give dpc, or dpc_category with dpc_adjustment and "
    "dpc_reason (without either, the impact's highest sensitivity class is used).",
    "properties": {
        "dpc": optional({"type": "integer", "minimum": 1, "maximum": 4, "description": "the adjusted context score"}),
        "dpc_category": optional({"type": "string", "enum": ["simple", "behavioural", "financial", "sensitive"]}),
        "dpc_adjustment": {"type": "integer", "description": "whole steps; the result stays within 1..4"},
        "dpc_reason": optional({"type": "string", "description": "required when dpc_adjustment is not 0"}),
        "ei": {**NUMBER_CHOICE, "enum": [0.25, 0.5, 0.75, 1]},
        "cb": optional(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "confidentiality": {**NUMBER_CHOICE, "enum": [0, 0.25, 0.5]},
                    "integrity": {**NUMBER_CHOICE, "enum": [0, 0.25, 0.5]},
                    "availability": {**NUMBER_CHOICE, "enum": [0, 0.25, 0.5]},
                    "malicious": {"type": "boolean"},
                },
            }
        ),
        "exemptions": optional(
            {
                "type": "array",
                "items": {"type": "string", "enum": ["unintelligible", "mitigated", "disproportionate_effort"]},
            }
        ),
        "decision": optional(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "authority": DECISION_VALUE,
                    "data_subjects": DECISION_VALUE,
                    "rationale": optional({"type": "string", "description": "required when either is not_required"}),
                },
            }
        ),
    },
}

ASSESSMENT = {
    "type": "object",
    "nullable": True,
    "required": ["severity", "suggested", "decision"],
    "properties": {
        "dpc": {"type": "integer"},
        "dpc_category": {"type": "string", "nullable": True},
        "dpc_adjustment": {"type": "integer"},
        "dpc_reason": {"type": "string"},
        "ei": {"type": "number"},
        "cb": {"type": "object"},
        "exemptions": KEYS,
        "severity": {
            "type": "object",
            "required": ["score", "band"],
            "properties": {
                "score": {"type": "number"},
                "band": {"type": "string", "enum": ["low", "medium", "high", "very high"]},
            },
        },
        "suggested": {
            "type": "object",
            "required": ["authority", "data_subjects"],
            "properties": {"authority": {"type": "string"}, "data_subjects": {"type": "string"}, "reasons": KEYS},
        },
        "decision": {
            "type": "object",
            "required": ["authority", "data_subjects"],
            "properties": {
                "authority": DECISION_VALUE,
                "data_subjects": DECISION_VALUE,
                "rationale": {"type": "string"},
                "decided_by": {"type": "string", "nullable": True},
                "decided_at": NULLABLE_INSTANT,
            },
        },
    },
}

OBLIGATION = {
    "type": "object",
    "required": [
        "id",
        "recipient_kind",
        "recipient",
        "regime",
        "stage",
        "anchor",
        "clock_start",
        "due_at",
        "target_at",
        "status",
        "source",
    ],
    "properties": {
        "id": {"type": "integer"},
        "rule": {"type": "string"},
        "recipient_kind": {"type": "string"},
        "recipient": {"type": "string", "description": "a customer key, or the authority's name"},
        "regime": {"type": "string"},
        "stage": {"type": "string"},
        "anchor": {"type": "string", "description": "the fact whose clock binds now"},
        "clock_start": NULLABLE_INSTANT,
        "due_at": {
            **NULLABLE_INSTANT,
            "description": 'null for "without undue delay" (see target_at) or while the clock has not started',
        },
        "target_at": {**NULLABLE_INSTANT, "description": 'our internal target for "without undue delay"'},
        "status": {"type": "string", "enum": ["pending", "overdue", "sent", "acknowledged", "not_required"]},
        "source": {"type": "string"},
        "period": {"type": "string"},
        "flag": {"type": "string", "nullable": True, "description": "what a person must resolve"},
        "triggered_by": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the facts that made the rule apply, in words (residents of its regions, data elements, "
            "the customer's status); empty for a rule that applies whenever its regime and our role do",
        },
        "sent_at": NULLABLE_INSTANT,
        "late_by_seconds": {"type": "integer", "nullable": True},
        "decided_by": {"type": "string", "nullable": True},
        "rationale": {"type": "string", "nullable": True},
    },
}

EVENT_INPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "at"],
    "properties": {
        "kind": {
            "type": "string",
            "enum": sorted(EVENT_KINDS),
        },
        "at": {**INSTANT, "description": "when it was determined or filed"},
        "stage": optional({"type": "string", "description": "for stage_filed: the rule id of the stage"}),
        "note": optional({"type": "string", "description": "required for a negative determination"}),
        "reference": optional({"type": "string", "maxLength": 200}),
    },
}

EVENT = {
    "type": "object",
    "required": ["id", "kind", "at"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string"},
        "stage": {"type": "string", "nullable": True},
        "at": INSTANT,
        "note": {"type": "string"},
        "reference": {"type": "string"},
        "recorded_by": {"type": "string", "nullable": True},
        "obligations": {"type": "array", "items": OBLIGATION, "description": "the first page"},
        "obligations_page": FIRST_PAGE,
    },
}

INCIDENT_SUMMARY_PROPERTIES = {
    "id": {"type": "integer"},
    "title": {"type": "string"},
    "status": {"type": "string", "enum": [s.value for s in IncidentStatus]},
    "aware_at": INSTANT,
    "systems": KEYS,
    "nature": KEYS,
    "url": {"type": "string"},
}

INCIDENT = {
    "type": "object",
    "required": [
        "id",
        "title",
        "aware_at",
        "systems",
        "status",
        "impact",
        "assessment",
        "obligations",
        "obligations_page",
    ],
    "properties": {
        **INCIDENT_SUMMARY_PROPERTIES,
        "description": {"type": "string"},
        "detected_at": NULLABLE_INSTANT,
        "occurred_from": NULLABLE_INSTANT,
        "occurred_to": NULLABLE_INSTANT,
        "cause": {"type": "string", "nullable": True},
        "data_categories": KEYS,
        "encrypted": {"type": "boolean", "nullable": True},
        "key_compromised": {"type": "boolean", "nullable": True},
        "containment": {"type": "string"},
        "created_at": INSTANT,
        "impact": IMPACT,
        "assessment": ASSESSMENT,
        "obligations": {
            "type": "array",
            "items": OBLIGATION,
            "description": "the first page, soonest due first; GET /api/v1/incidents/{incident_id}/obligations has "
            "them all",
        },
        "obligations_page": FIRST_PAGE,
        "events": {"type": "array", "items": EVENT},
    },
}


def page_of(item: dict) -> dict:
    """One page of a list, as every list of the API answers it."""
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": item},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }


INCIDENT_LIST = page_of({"type": "object", "properties": INCIDENT_SUMMARY_PROPERTIES})
CUSTOMER_LIST = page_of(CUSTOMER_IMPACT)
OBLIGATION_LIST = page_of(OBLIGATION)

IMPORT_SUMMARY = {
    "type": "object",
    "properties": {
        "created": {"type": "object", "additionalProperties": {"type": "integer"}},
        "updated": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what is wrong, naming the field"},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}


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
