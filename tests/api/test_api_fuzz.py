"""Generated requests against the API's OpenAPI document (schemathesis, in-process over WSGI), sent with a privacy
officer's token to a database holding an inventory and an incident: no request, valid or not, is answered with a
server error, or with a status, content type or body the document does not describe; and invalid ones are refused.

Bounded and reproducible: schemathesis's coverage phase (boundary values and wrong types for every field and
parameter) plus MAX_EXAMPLES generated requests per operation, derandomized. Each operation is its own test, so it
starts from a fresh database and what it writes is emptied after it (the `app` fixture)."""

import json

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from breachdesk.api.openapi import build
from breachdesk.api.views import bp
from breachdesk.auth.models import Role

MAX_EXAMPLES = 100
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


def _document() -> dict:
    """The API's document, built from its blueprint: the tests are made one per operation when this module is
    collected, before any app exists. The app serves the same document (checked below)."""
    app = Flask(__name__)
    app.register_blueprint(bp)
    return json.loads(json.dumps(build(app)))


DOCUMENT = _document()

schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            # the token is sent with every request; tests/api/test_api.py covers missing and revoked ones
            "generation": {"mode": "all", "with-security-parameters": False},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    ),
)


@pytest.fixture
def privacy_token(token):
    return token(Role.PRIVACY)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # the examples of one operation share its test's app and database, on purpose
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_is_a_server_error_or_off_the_document(case, app, incident, privacy_token):
    case.call_and_validate(app=app, headers=privacy_token)


def test_the_fuzzed_document_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").json == DOCUMENT
