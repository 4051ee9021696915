"""Input at the edges of what the database and the date type hold, sent to the pages (the API's twin is
tests/api/test_api_input_edges.py): each is a 4xx answer naming the field, never a server error, and changes nothing."""

import re

import pytest
from sqlalchemy import select

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role, User
from breachdesk.extensions import db


@pytest.fixture
def admin(login):
    """A client logged in as an admin (every page's role), and the headers of a token of the same user for the API."""
    client = login(Role.ADMIN)
    _, secret = create_token(db.session.scalar(select(User).where(User.username == "admin-user")))
    db.session.commit()
    return client, {"Authorization": f"Bearer {secret}"}


# PostgreSQL's INTEGER ends at 2**31 - 1 and refuses to compare a larger number; SQLite's ends at 2**63 - 1.
@pytest.mark.parametrize("too_large", [2**31, 2**63])
def test_every_route_with_an_id_answers_404_past_the_database_integer_range(app, incident, admin, too_large):
    client, token = admin
    answered = {}
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<\w+>", "x", re.sub(r"<int:\w+>", str(too_large), rule.rule))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=token)
            answered[f"{method} {path}"] = response.status_code
            if path.startswith("/api/"):
                assert response.is_json, path
    assert len(answered) > 30  # every route with an id, each with its methods
    assert set(answered.values()) == {404}, {request: status for request, status in answered.items() if status != 404}
