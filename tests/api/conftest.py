import pytest

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from tests.conftest import create_user


@pytest.fixture
def token(app):
    """token(role) -> headers carrying a fresh token of a user with that role."""

    def make(role: Role = Role.RESPONDER):
        user = create_user(f"api-{role.value}", role)
        _, secret = create_token(user, "alerting")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make
