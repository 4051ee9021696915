"""Talking to a BreachDesk served by gunicorn in production mode, as a browser behind a TLS proxy would."""

import http.cookiejar
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HTTPS = {"X-Forwarded-Proto": "https"}  # TLS ends at the proxy, which says so


class BehindTlsProxy(http.cookiejar.DefaultCookiePolicy):
    """The client returns Secure cookies over the plain loopback hop behind the proxy."""

    def return_ok_secure(self, cookie, request):
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base: str, server, patience: float = 120) -> None:
    """Polls /healthz while the workers boot; `patience` only guards against a server that never answers."""
    deadline = time.monotonic() + patience
    while True:
        assert server.poll() is None, "gunicorn exited before answering"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
                assert response.status == 200
                return
        except OSError:  # refused, reset or timed out while the workers boot
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)


class Browser:
    """A cookie jar and the CSRF token of the last page read: enough to log in and post forms."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy=BehindTlsProxy()))
        )

    def get(self, path: str):
        return self.opener.open(urllib.request.Request(f"{self.base}{path}", headers=HTTPS))

    def page(self, path: str) -> str:
        with self.get(path) as response:
            assert response.status == 200, path
            return response.read().decode()

    def post(self, path: str, fields: dict, csrf_token: str):
        headers = {**HTTPS, "X-CSRFToken": csrf_token, "Referer": f"https://{self.base.split('//')[1]}{path}"}
        data = urllib.parse.urlencode({"csrf_token": csrf_token, **fields}).encode()
        return self.opener.open(urllib.request.Request(f"{self.base}{path}", data=data, headers=headers))

    def log_in(self, username: str, password: str) -> None:
        token = csrf_token(self.page("/login"))
        with self.post("/login", {"username": username, "password": password}, token) as response:
            assert "/login" not in response.url, f"{username} could not log in"


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@dataclass
class Served:
    browser: Browser
    log: str = ""  # gunicorn's own log, once it has stopped


@contextmanager
def gunicorn(executable: Path, workers: int, env: dict, cwd: Path | None = None) -> Iterator[Served]:
    """`breachdesk:create_app()` under gunicorn behind a (pretended) TLS proxy on loopback, healthy before use."""
    port = free_port()
    command = [str(executable), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "--forwarded-allow-ips", "127.0.0.1", "breachdesk:create_app()"]  # fmt: skip
    with subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as server:  # fmt: skip
        served = Served(Browser(f"http://127.0.0.1:{port}"))
        try:
            wait_until_healthy(served.browser.base, server)
            yield served
        finally:
            server.terminate()
            _, served.log = server.communicate(timeout=60)
