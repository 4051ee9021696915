"""The production install as a new operator makes it: the wheel alone, installed into a fresh virtual
environment, run from a folder outside the checkout (so nothing can be found through the source tree)."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from breachdesk.notices.rendering import shipped_templates
from tests.core.served import Browser, csrf_token, gunicorn

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel built from this checkout, with its `prod` extra."""
    where = tmp_path_factory.mktemp("wheel")
    source = tracked_files(where / "source")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(where / "dist"), str(source)],
        check=True,
        cwd=where,
        capture_output=True,
    )
    (wheel,) = (where / "dist").glob("breachdesk-*.whl")
    venv.create(where / "venv", with_pip=True)
    subprocess.run(
        [str(where / "venv/bin/python"), "-m", "pip", "install", "--quiet", f"{wheel}[prod]"],
        check=True,
        cwd=where,
        capture_output=True,
    )
    return where / "venv"


def tracked_files(destination: Path) -> Path:
    """The checkout's tracked files (symlinks kept), as a release would build from: no stale `build/` folder
    or untracked file of a working copy can slip into the wheel."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=CHECKOUT, check=True, capture_output=True).stdout
    for name in filter(None, names.decode().split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, target, follow_symlinks=False)
    return destination


@pytest.fixture
def database_of_its_own(migrated):
    """Empty: the default SQLite file in the install's instance folder, or a PostgreSQL database beside the
    suite's (the installed app migrates it itself; the suite's own tables are left alone)."""
    if not migrated.startswith("postgresql"):
        yield None
        return
    url = make_url(migrated)
    name = f"{url.database}_wheel"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def run(venv_dir: Path, env: dict, cwd: Path, *command: str) -> str:
    done = subprocess.run(
        [str(venv_dir / "bin" / command[0]), *command[1:]],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_alone_serves_every_page_kind_from_a_fresh_environment(installed, database_of_its_own, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("BREACHDESK_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        {
            "BREACHDESK_ENV": "production",
            "BREACHDESK_SECRET_KEY": "wheel-test-secret",
            "BREACHDESK_AUDIT_KEY": "wheel-test-audit-key",
            "PATH": f"{installed / 'bin'}:{env['PATH']}",
        }
    )
    if database_of_its_own:
        env["BREACHDESK_DATABASE_URL"] = database_of_its_own
    package = run(installed, env, outside, "python", "-c", "import breachdesk; print(breachdesk.__file__)")
    assert package.startswith(str(installed)) and str(CHECKOUT) not in package

    run(installed, env, outside, "breachdesk", "db", "upgrade")
    demo = run(installed, env, outside, "breachdesk", "demo")
    admin_password = re.search(r"^\s+admin\s+(\S+)\s+admin$", demo, re.MULTILINE).group(1)

    with gunicorn(installed / "bin/gunicorn", 2, env, cwd=outside) as served:
        browser = served.browser
        assert "<h1>Log in</h1>" in browser.page("/login")
        assert "svg" in browser.page("/static/favicon.svg")
        assert json.loads(browser.page("/api/v1/openapi.json"))["openapi"].startswith("3.")
        browser.log_in("admin", admin_password)
        assert "<title>Deadlines · BreachDesk</title>" in browser.page("/dashboard")
        for kind, language in shipped_templates():
            _preview_shipped_template(browser, kind, language)
    assert "Traceback" not in served.log, served.log


def _preview_shipped_template(browser: Browser, kind: str, language: str) -> None:
    """The template page reads the shipped default from the package; its preview renders it against the
    sample, as an admin sees it before editing."""
    page = browser.page(f"/settings/templates/{kind}/{language}")
    assert "shipped default" in page
    source = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL).group(1))
    assert "{% block subject %}" in source
    with browser.post(
        f"/settings/templates/{kind}/{language}/preview", {"source": source, "obligation": ""}, csrf_token(page)
    ) as response:
        rendered = json.loads(response.read())
    assert response.status == 200 and rendered["problems"] == [], (kind, language, rendered)
    assert rendered["subject"].strip() and rendered["text"].strip() and "<" in rendered["html"], (kind, language)
