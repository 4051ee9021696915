"""The role matrix: every route, every role, every method. A new route must be added here to pass."""

import pytest

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.incidents.services import open_incident
from breachdesk.inventory.models import Volume
from breachdesk.notices.models import Notice, OutboxMessage
from breachdesk.notices.services import approve_notice, generate_notice
from tests.conftest import create_user, log_in
from tests.incident_fixtures import write_statements

ADMIN, PRIVACY, RESPONDER, VIEWER = Role.ADMIN, Role.PRIVACY, Role.RESPONDER, Role.VIEWER
ALL = {ADMIN, PRIVACY, RESPONDER, VIEWER}
PUBLIC = "public"
#: public, but only with the provider's signature: everyone else, whatever the role, gets 403
SIGNED = "signed"

# Written out by hand on purpose: it is the specification the code is checked against.
EXPECTED = {
    "core.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": ALL,
    "auth.users": {ADMIN},
    "auth.user_new": {ADMIN},
    "auth.user_edit": {ADMIN},
    "audit.events": {ADMIN, PRIVACY},
    "inventory.home": ALL,
    "incidents.index": ALL,
    "incidents.report": {ADMIN, PRIVACY, RESPONDER},
    "incidents.show": ALL,
    "incidents.edit": {ADMIN, PRIVACY, RESPONDER},
    "incidents.status": {ADMIN, PRIVACY},
    "incidents.note": {ADMIN, PRIVACY, RESPONDER},
    "incidents.recompute": {ADMIN, PRIVACY, RESPONDER},
    "incidents.customers_csv": ALL,
    "incidents.link": ALL,
    "deadlines.event": {ADMIN, PRIVACY},
    "assessments.assess": {ADMIN, PRIVACY},
    "deadlines.incident_obligations": ALL,
    "deadlines.obligation": ALL,
    "deadlines.sent": {ADMIN, PRIVACY},
    "deadlines.acknowledged": {ADMIN, PRIVACY},
    "inventory.organisation": ALL,
    "inventory.organisation_edit": {ADMIN},
    "notices.incident_notices": ALL,
    "notices.generate_all": {ADMIN, PRIVACY},
    "notices.review_all": {ADMIN, PRIVACY},
    "notices.approve_all": {ADMIN, PRIVACY},
    "notices.generate": {ADMIN, PRIVACY},
    "notices.statement": {ADMIN, PRIVACY},
    "notices.notice": ALL,
    "notices.notice_html": ALL,
    "notices.document": {ADMIN, PRIVACY},
    "notices.edit": {ADMIN, PRIVACY},
    "notices.review_one": {ADMIN, PRIVACY},
    "notices.approve": {ADMIN, PRIVACY},
    "notices.resend_message": {ADMIN, PRIVACY},
    "notices.templates": {ADMIN},
    "notices.template_edit": {ADMIN},
    "notices.template_preview": {ADMIN},
    "notices.template_restore": {ADMIN},
    "notices.acknowledge": PUBLIC,
    "dashboard.dashboard": ALL,
    "dashboard.landing": ALL,
    "dashboard.waiting": {ADMIN, PRIVACY},
    "dashboard.metrics": ALL,
    "dashboard.register": ALL,
    "dashboard.register_csv": ALL,
    "dashboard.calendar_settings": ALL,
    "dashboard.calendar_revoke": ALL,
    "dashboard.calendar_feed": PUBLIC,
    "notices.sendgrid_webhook": SIGNED,
    "impact.blast_radius": ALL,
    "inventory.customers": ALL,
    "inventory.customer": ALL,
    "inventory.customer_form": {ADMIN, PRIVACY},
    "inventory.systems": ALL,
    "inventory.system": ALL,
    "inventory.system_form": {ADMIN, PRIVACY},
    "inventory.activities": ALL,
    "inventory.activity": ALL,
    "inventory.activity_form": {ADMIN, PRIVACY},
    "inventory.volumes": ALL,
    "inventory.volume_form": {ADMIN, PRIVACY},
    "inventory.import_page": {ADMIN, PRIVACY},
    "inventory.export_yaml": {ADMIN, PRIVACY},
    "inventory.export_volumes": {ADMIN, PRIVACY},
}


# The API takes bearer tokens only: a browser session gets 401 there, whatever its role.
EXPECTED_API = {
    "api.openapi": PUBLIC,
    "api.incidents": ALL,
    "api.incident": ALL,
    "api.incident_customers": ALL,
    "api.incident_obligations": ALL,
    "api.create_incident": {ADMIN, PRIVACY, RESPONDER},
    "api.inventory": {ADMIN, PRIVACY},
    "api.assessment": {ADMIN, PRIVACY},
    "api.events": {ADMIN, PRIVACY},
}


def sample_arguments(rule) -> dict:
    values = {
        "key": {
            "customer": "maison-lemaire",
            "system": "messaging-db",
            "activity": "conversations",
            "blast": "messaging-db",
        },
        "user_id": 1,
        "volume_id": db.session.scalar(db.select(Volume.id).limit(1)),
        "incident_id": db.session.scalar(db.select(Incident.id).limit(1)),
        "obligation_id": db.session.scalar(db.select(Obligation.id).limit(1)),
        "notice_id": db.session.scalar(db.select(Notice.id).limit(1)),
        "message_id": db.session.scalar(db.select(OutboxMessage.id).limit(1)),
        "kind": "controller_initial",
        "language": "fr",
        "version": 1,
        "token": "not-a-signed-token",
    }
    arguments = {}
    for name in rule.arguments:
        if name == "key":
            kind = next(k for k in values["key"] if k in rule.endpoint)
            arguments[name] = values["key"][kind]
        else:
            arguments[name] = values[name]
    return arguments


def url_of(app, rule) -> str:
    with app.test_request_context():
        return app.url_for(rule.endpoint, **sample_arguments(rule))


def every_route(app, api: bool = False):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api.") != api:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_matrix(app):
    assert {rule.endpoint for rule, _ in every_route(app)} == set(EXPECTED)
    assert {rule.endpoint for rule, _ in every_route(app, api=True)} == set(EXPECTED_API)


def test_every_view_declares_its_roles(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert getattr(view, "allowed_roles", None) is not None, endpoint


@pytest.fixture
def an_incident(demo_inventory):
    """An incident with an approved notice, so that every notice and outbox route has something to show."""
    found = open_incident(
        {"title": "Test", "aware_at": "2026-01-05T10:00:00Z", "systems": ["messaging-db"], "nature": ["integrity"]},
        None,
    )
    write_statements(found)
    obligation = db.session.scalar(db.select(Obligation).where(Obligation.recipient_kind == "controller").limit(1))
    approver = create_user("approver", ADMIN)
    approve_notice(generate_notice(obligation, None), approver)
    db.session.commit()


def test_anonymous_users_are_sent_to_login(app, client, an_incident):
    create_user("someone", ADMIN)
    for rule, method in every_route(app):
        url = url_of(app, rule)
        response = client.open(url, method=method, buffered=True)
        if EXPECTED[rule.endpoint] == SIGNED:
            assert response.status_code == 403, url
        elif EXPECTED[rule.endpoint] == PUBLIC:
            assert response.status_code != 302 or "/login" not in response.location, url
        else:
            assert response.status_code == 302 and "/login" in response.location, (method, url)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_what_it_may(app, client, an_incident, role):
    create_user("first-admin", ADMIN)  # user_id 1 exists for the user pages
    create_user("tester", role)
    assert log_in(client, "tester").status_code == 302
    for rule, method in every_route(app):
        if rule.endpoint == "auth.logout":
            continue  # checked below: it would end the session mid-walk
        url = url_of(app, rule)
        response = client.open(url, method=method, buffered=True)
        expected = EXPECTED[rule.endpoint]
        if expected == SIGNED:
            assert response.status_code == 403, (role, method, url, response.status_code)
        elif expected == PUBLIC or role in expected:
            assert response.status_code not in (401, 403), (role, method, url, response.status_code)
            assert response.status_code < 500, (role, method, url)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
    assert client.post("/logout").status_code == 302


@pytest.mark.parametrize("role", [None, *Role])
def test_each_token_role_reaches_exactly_what_it_may_in_the_api(app, client, an_incident, role):
    from breachdesk.api.services import create_token

    headers = {}
    if role is not None:
        _, secret = create_token(create_user(f"token-{role.value}", role), "matrix")
        db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
    for rule, method in every_route(app, api=True):
        response = client.open(url_of(app, rule), method=method, headers=headers, json={})
        expected = EXPECTED_API[rule.endpoint]
        if expected == PUBLIC:
            assert response.status_code == 200
        elif role is None:
            assert response.status_code == 401, (method, rule.rule)
        elif role in expected:
            assert response.status_code not in (401, 403) and response.status_code < 500, (role, method, rule.rule)
        else:
            assert response.status_code == 403 and "error" in response.json, (role, method, rule.rule)


def test_a_session_never_reaches_the_api(app, client, an_incident):
    create_user("admin-in-browser", ADMIN)
    log_in(client, "admin-in-browser")
    for rule, method in every_route(app, api=True):
        if EXPECTED_API[rule.endpoint] != PUBLIC:
            assert client.open(url_of(app, rule), method=method, json={}).status_code == 401


def test_a_declared_rule_is_what_the_view_carries():
    """`allow` runs when the views are imported; called here, so that a change to it shows in this test."""
    from breachdesk.core.access import allow

    assert allow(PUBLIC)(lambda: None).allowed_roles == PUBLIC
    assert allow([ADMIN, PRIVACY, ADMIN])(lambda: None).allowed_roles == frozenset({ADMIN, PRIVACY})


def test_static_files_and_unknown_pages_need_no_login(app, client):
    with client.get("/static/breachdesk.css") as response:
        assert response.status_code == 200
    assert client.get("/no-such-page").status_code == 404


def test_a_link_is_shown_only_to_those_who_may_follow_it(app):
    """`can` in the templates: public pages to anyone, the others to a signed-in user of an allowed role."""
    from flask_login import login_user, logout_user

    from breachdesk.core.access import allowed_roles, can

    privacy = create_user("privacy", PRIVACY)
    viewer = create_user("viewer", VIEWER)
    with app.test_request_context():
        assert allowed_roles("static") is None  # no rule declared: refused to everyone but the static files
        assert can("auth.login") and not can("audit.events")
        login_user(viewer)
        assert can("incidents.index") and not can("audit.events")
        logout_user()
        login_user(privacy)
        assert can("audit.events") and not can("auth.users")
