"""The production shape: gunicorn with several workers serving the app factory against our database."""

import os
import subprocess
import sys
from pathlib import Path

from breachdesk.auth.models import Role
from tests.conftest import PASSWORD, create_user
from tests.core.served import Browser, free_port, wait_until_healthy


def test_gunicorn_workers_share_sessions_and_answer_health_checks(app, migrated, tmp_path):
    create_user("gina", Role.VIEWER)
    port = free_port()
    env = {
        **os.environ,
        "BREACHDESK_DATABASE_URL": migrated,
        "BREACHDESK_INSTANCE_PATH": str(tmp_path / "inst"),
        "BREACHDESK_SECRET_KEY": "shared-by-every-worker",
        "BREACHDESK_ENV": "production",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--forwarded-allow-ips",
            "127.0.0.1",
            "breachdesk:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            browser = Browser(f"http://127.0.0.1:{port}")
            wait_until_healthy(browser.base, server)
            browser.log_in("gina", PASSWORD)  # behind a TLS proxy: secure cookies travel because it says https
            # Many requests land on different workers; each must accept the same session.
            for _ in range(12):
                with browser.get("/customers") as response:
                    assert response.status == 200 and "/login" not in response.url
        finally:
            server.terminate()
            _, log = server.communicate(timeout=60)
    assert log.count("Booting worker") == 3
    assert PASSWORD not in log and "gina" not in log  # logs carry no personal data
