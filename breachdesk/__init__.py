"""BreachDesk: breach notification for a SaaS processor. `create_app` is the table of contents."""

import logging
import os
import secrets
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from breachdesk.extensions import babel, csrf, db, limiter, login_manager, migrate

PACKAGE = Path(__file__).resolve().parent
MIGRATIONS = PACKAGE / "migrations"


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Templates and static files come from the package (`breachdesk/templates` is the repository's top-level
    `templates/`, shipped in the wheel). The instance folder is `BREACHDESK_INSTANCE_PATH`, else Flask's
    default: `instance/` beside the package in a checkout, `<venv>/var/breachdesk-instance` when installed."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("BREACHDESK_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(PACKAGE / "templates"),
    )
    configure(app, config_overrides or {})
    configure_logging(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_blueprints(app)
    register_receivers()
    register_cli(app)
    return app


def configure(app: Flask, overrides: dict[str, Any]) -> None:
    """Defaults, then instance/config.py, then BREACHDESK_* variables, then the caller's overrides."""
    app.config.from_object("breachdesk.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BREACHDESK")
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'breachdesk.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if url.startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"connect_timeout": int(app.config["DATABASE_CONNECT_TIMEOUT"])}
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "SECRET_KEY")
    if not app.config.get("AUDIT_KEY"):
        # its own key, not SECRET_KEY: that one may be changed to end every session, this one must last as long
        # as the audit log, which cannot be verified without it
        app.config["AUDIT_KEY"] = _instance_secret(app, "AUDIT_KEY")
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    check_dispatch(app.config)
    check_alerts(app.config)


def check_dispatch(config) -> None:
    """A lease shorter than a batch's sending would let another dispatcher send the same messages again: refuse
    to start rather than find out from a customer."""
    from breachdesk.notices.pacing import lease_problem

    if problem := lease_problem(config):
        raise RuntimeError(problem)


def check_alerts(config) -> None:
    """A webhook URL over plain http would show its secret to the network, and a team language or zone that does
    not exist would stop the first alert: refuse to start instead."""
    from breachdesk.notices.chat import chat_problems
    from breachdesk.reminders.rules import ALERT_LANGUAGES, oncall_problems

    problems = chat_problems(config) + oncall_problems(
        config["ONCALL_LANGUAGE"], config["ONCALL_TIME_ZONE"], ALERT_LANGUAGES
    )
    if problems:
        raise RuntimeError("; ".join(problems))


def _instance_secret(app: Flask, name: str) -> str:
    """Development keeps its keys in the instance folder (`secret_key`, `audit_key`), created on first use,
    readable by their owner only. Production needs them from its operator: workers on several hosts share them."""
    if app.config["ENV"] == "production":
        raise RuntimeError(
            f"BREACHDESK_{name} is not set: production mode will not start without it "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    path = Path(app.instance_path) / name.lower()
    if not path.exists():
        # written aside, then linked into place: a process starting at the same moment never reads half a key
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process placed its key first: both use that one
        finally:
            draft.unlink()
    return path.read_text().strip()


def configure_logging(app: Flask) -> None:
    """One stderr handler on the package logger; the SendGrid HTTP client would log API keys at DEBUG."""
    logger = logging.getLogger("breachdesk")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("python_http_client").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from breachdesk.api.views import token_user
    from breachdesk.core.access import enforce_access
    from breachdesk.core.i18n import TRANSLATIONS
    from breachdesk.core.web import request_language

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, default_translation_directories=str(TRANSLATIONS), locale_selector=request_language)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_browser_session_user)
    login_manager.request_loader(token_user)
    login_manager.blueprint_login_views = {"api": None}  # the API answers 401, it never redirects
    app.before_request(enforce_access)


def _browser_session_user(session_id: str):
    from flask import request

    from breachdesk.auth.services import session_user

    if request.blueprint == "api":
        return None  # a browser session never authenticates the API: tokens only, so no CSRF exposure
    return session_user(session_id)


def register_blueprints(app: Flask) -> None:
    from breachdesk.api.views import bp as api_bp
    from breachdesk.assessments.views import bp as assessments_bp
    from breachdesk.audit.views import bp as audit_bp
    from breachdesk.auth.views import bp as auth_bp
    from breachdesk.core.web import register_web
    from breachdesk.dashboard.views import bp as dashboard_bp
    from breachdesk.deadlines.views import bp as deadlines_bp
    from breachdesk.impact.views import bp as impact_bp
    from breachdesk.incidents.views import bp as incidents_bp
    from breachdesk.inventory.views import bp as inventory_bp
    from breachdesk.notices.views import bp as notices_bp

    register_web(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(inventory_bp)
    app.register_blueprint(incidents_bp)
    app.register_blueprint(impact_bp)
    app.register_blueprint(assessments_bp)
    app.register_blueprint(deadlines_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(audit_bp)


def register_receivers() -> None:
    """The receivers of core.signals in modules no blueprint imports: importing the module connects them."""
    import_module("breachdesk.reminders.news")


def register_cli(app: Flask) -> None:
    from breachdesk.api.cli import token_cli
    from breachdesk.audit.cli import audit_cli
    from breachdesk.auth.cli import user_cli
    from breachdesk.demo.cli import demo_command, serve_command
    from breachdesk.inventory.cli import inventory_cli
    from breachdesk.notices.cli import dispatch_command
    from breachdesk.reminders.cli import scheduler_command

    for command in (
        user_cli,
        inventory_cli,
        audit_cli,
        token_cli,
        demo_command,
        serve_command,
        dispatch_command,
        scheduler_command,
    ):
        app.cli.add_command(command)
