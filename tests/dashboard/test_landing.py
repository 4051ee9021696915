"""Each role lands on its own work, and the privacy team's "waiting for you" page lists what waits for it."""

import pytest
from sqlalchemy import select

from breachdesk.assessments.services import save_assessment
from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.notices.services import approve_notice, generate_notice
from tests.conftest import create_user, log_in


@pytest.mark.parametrize(
    "role, work",
    [
        (Role.RESPONDER, "/incidents/new"),
        (Role.PRIVACY, "/waiting"),
        (Role.ADMIN, "/waiting"),
        (Role.VIEWER, "/dashboard"),
    ],
)
def test_each_role_lands_where_its_work_is_after_login_and_on_the_home_address(client, role, work):
    create_user("someone", role)
    after_login = log_in(client, "someone")
    assert after_login.location == "/"
    assert client.get("/").location == work
    assert client.get(work).status_code == 200


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.PRIVACY, Role.ADMIN])
def test_report_an_incident_is_in_the_top_bar_of_every_page_for_those_who_may_file(client, demo_inventory, role):
    create_user("someone", role)
    log_in(client, "someone")
    for path in ("/dashboard", "/customers", "/incidents/", "/inventory"):
        page = client.get(path).text
        assert '<a class="report-link" href="/incidents/new"' in page, path


def test_viewers_are_not_offered_to_report_an_incident(client, demo_inventory):
    create_user("board", Role.VIEWER)
    log_in(client, "board")
    assert "report-link" not in client.get("/dashboard").text


def test_waiting_lists_incidents_to_decide_and_drafts_to_approve_until_they_are_done(client, demo):
    privacy = create_user("dpo", Role.PRIVACY)
    log_in(client, "dpo")
    page = client.get("/waiting").text
    decide = page[page.index('id="to-decide"') : page.index('id="to-approve"')]
    assert f'href="/incidents/{demo.id}"' in decide and "not assessed yet" in decide
    assert "No draft waits for approval." in page

    save_assessment(
        demo,
        {"dpc": 2, "ei": "0.5", "decision": {"authority": "required", "data_subjects": "undecided"}},
        privacy,
    )
    duty = db.session.scalar(select(Obligation).where(Obligation.recipient_kind == "controller").limit(1))
    draft = generate_notice(duty, None)
    db.session.commit()
    page = client.get("/waiting").text
    decide = page[page.index('id="to-decide"') : page.index('id="to-approve"')]
    assert "assessed, a decision still open" in decide
    approve = page[page.index('id="to-approve"') :]
    assert f'href="/incidents/{demo.id}/notices/review"' in approve and "1 draft ·" in approve

    save_assessment(
        demo,
        {"dpc": 2, "ei": "0.5", "decision": {"authority": "required", "data_subjects": "required"}},
        privacy,
    )
    approve_notice(draft, privacy)
    db.session.commit()
    page = client.get("/waiting").text
    assert "Nothing to decide." in page and "No draft waits for approval." in page
