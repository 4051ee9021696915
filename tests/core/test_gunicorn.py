"""The production shape: gunicorn with several workers serving the app factory against our database."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from breachdesk.auth.models import Role
from tests.conftest import PASSWORD, create_user


class BehindTlsProxy(http.cookiejar.DefaultCookiePolicy):
    """TLS ends at the proxy, so the client returns Secure cookies over the plain loopback hop."""

    def return_ok_secure(self, cookie, request):
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_workers_share_sessions_and_answer_health_checks(app, migrated, tmp_path):
    create_user("gina", Role.VIEWER)
    port = free_port()
    env = {**os.environ, "BREACHDESK_DATABASE_URL": migrated, "BREACHDESK_INSTANCE_PATH": str(tmp_path / "inst"),
           "BREACHDESK_SECRET_KEY": "shared-by-every-worker", "BREACHDESK_ENV": "production"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with subprocess.Popen([str(gunicorn), "--workers", "3", "--bind", f"127.0.0.1:{port}",
                           "--forwarded-allow-ips", "127.0.0.1", "breachdesk:create_app()"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as server:
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120  # a guard against hanging: a busy machine starts slowly
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                        assert response.status == 200
                        break
                except OSError:  # refused, reset or timed out while the workers boot
                    assert server.poll() is None, "gunicorn exited"
                    assert time.monotonic() < deadline, "gunicorn did not answer"
                    time.sleep(0.2)
            # Behind a TLS proxy: secure cookies travel because the proxy says https.
            jar = http.cookiejar.CookieJar(policy=BehindTlsProxy())
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            https = {"X-Forwarded-Proto": "https"}
            page = opener.open(urllib.request.Request(f"{base}/login", headers=https)).read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode({"csrf_token": token, "username": "gina", "password": PASSWORD}).encode()
            opener.open(urllib.request.Request(f"{base}/login", data=form, headers={**https,
                        "Referer": f"https://127.0.0.1:{port}/login"}))
            # Many requests land on different workers; each must accept the same session.
            for _ in range(12):
                with opener.open(urllib.request.Request(f"{base}/customers", headers=https)) as response:
                    assert response.status == 200 and "/login" not in response.url
        finally:
            server.terminate()
            _, log = server.communicate(timeout=60)
    assert log.count("Booting worker") == 3
    assert PASSWORD not in log and "gina" not in log  # logs carry no personal data
