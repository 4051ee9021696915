"""The production shape: gunicorn with several workers serving the app factory against our database."""

import os
import sys
from pathlib import Path

from breachdesk.auth.models import Role
from tests.conftest import AUDIT_KEY, PASSWORD, create_user
from tests.core.served import gunicorn


def test_gunicorn_workers_share_sessions_and_answer_health_checks(app, migrated, tmp_path):
    create_user("gina", Role.VIEWER)
    env = {
        **os.environ,
        "BREACHDESK_DATABASE_URL": migrated,
        "BREACHDESK_INSTANCE_PATH": str(tmp_path / "inst"),
        "BREACHDESK_SECRET_KEY": "shared-by-every-worker",
        "BREACHDESK_AUDIT_KEY": AUDIT_KEY,
        "BREACHDESK_ENV": "production",
    }
    with gunicorn(Path(sys.executable).parent / "gunicorn", 3, env) as served:
        served.browser.log_in("gina", PASSWORD)  # behind a TLS proxy: secure cookies travel because it says https
        # Many requests land on different workers; each must accept the same session.
        for _ in range(12):
            with served.browser.get("/customers") as response:
                assert response.status == 200 and "/login" not in response.url
    assert served.log.count("Booting worker") == 3
    assert PASSWORD not in served.log and "gina" not in served.log  # logs carry no personal data
