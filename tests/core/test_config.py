"""Configuration layering and the rules for the secret key and the audit key."""

import os
from pathlib import Path

import pytest

from breachdesk import create_app


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch):
    """These tests build their own layers; the PostgreSQL pass's BREACHDESK_* must not leak in."""
    for name in [n for n in os.environ if n.startswith("BREACHDESK_")]:
        monkeypatch.delenv(name)


def test_layers_apply_in_order_defaults_instance_env_overrides(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("PAGE_SIZE = 7\nMAIL_BACKEND = 'smtp'\nLOG_LEVEL = 'ERROR'\n")
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BREACHDESK_MAIL_BACKEND", "sendgrid")
    monkeypatch.setenv("BREACHDESK_SECRET_KEY", "from-env")
    app = create_app({"LOG_LEVEL": "WARNING"})
    assert app.config["PAGE_SIZE"] == 7  # instance/config.py over the default
    assert app.config["MAIL_BACKEND"] == "sendgrid"  # environment over instance/config.py
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["LOG_LEVEL"] == "WARNING"  # overrides last
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'breachdesk.db'}"


def test_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BREACHDESK_DATABASE_URL", "postgresql+psycopg://someone@db.internal/breachdesk")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://someone@")


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BREACHDESK_ENV", "production")
    with pytest.raises(RuntimeError, match="BREACHDESK_SECRET_KEY"):
        create_app()
    assert not (tmp_path / "secret_key").exists()


def test_demo_secret_is_generated_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_production_without_audit_key_refuses_to_start(tmp_path, monkeypatch):
    """Workers on several hosts would each make their own and write a chain nobody can verify."""
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BREACHDESK_ENV", "production")
    monkeypatch.setenv("BREACHDESK_SECRET_KEY", "x" * 32)
    with pytest.raises(RuntimeError, match="^BREACHDESK_AUDIT_KEY is not set"):
        create_app()
    assert not (tmp_path / "audit_key").exists()
    monkeypatch.setenv("BREACHDESK_AUDIT_KEY", "from-env")
    assert create_app().config["AUDIT_KEY"] == "from-env"


def test_demo_audit_key_is_generated_once_apart_from_the_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    first = create_app().config
    second = create_app().config
    assert first["AUDIT_KEY"] == second["AUDIT_KEY"] and len(first["AUDIT_KEY"]) == 64
    assert first["AUDIT_KEY"] != first["SECRET_KEY"]
    assert (tmp_path / "audit_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit_key", "secret_key"]  # no draft left behind


def test_a_key_another_process_placed_first_is_the_one_used(tmp_path, monkeypatch):
    """Two processes starting at once on a fresh instance folder end up with one key, never half of one."""
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    link = os.link

    def beaten_to_it(source, destination):
        Path(destination).write_text("placed-first\n")
        link(source, destination)

    monkeypatch.setattr(os, "link", beaten_to_it)
    config = create_app().config
    assert config["AUDIT_KEY"] == config["SECRET_KEY"] == "placed-first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit_key", "secret_key"]


def test_production_hardens_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 32, "AUDIT_KEY": "y" * 32})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
