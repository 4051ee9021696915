"""Cross-cutting web behaviour: security headers, error pages, the health check, template helpers."""

import logging
from collections.abc import Callable
from datetime import UTC, date
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import text
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import IntegerConverter

from breachdesk.core.access import PUBLIC, allow, can
from breachdesk.core.clock import parse_day
from breachdesk.core.db import MAX_PAGE, MAX_ROW_ID
from breachdesk.core.forms import show_problems
from breachdesk.core.html import clean_html
from breachdesk.core.i18n import SOURCE_LANGUAGE, Label
from breachdesk.core.zones import zone_names
from breachdesk.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
bp = Blueprint("core", __name__)

# No inline script or style anywhere, so the policy can forbid both.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.get("/healthz")
@allow(PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", whatever the driver raises
        log.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def commit_or_flash(
    action: Callable[[], T], done: str | Callable[[T], str] | None = None, form=None
) -> tuple[bool, T | None]:
    """Run one service call for a form: on success commit and say `done`; when the rules refuse it, undo
    it and show why (each problem next to its field of `form`, or naming it). Returns (succeeded, the call's
    result)."""
    from flask import flash

    from breachdesk.core.errors import DomainError, ValidationFailed

    try:
        result = action()
    except ValidationFailed as error:
        flash_problems(error, form)
        return False, None
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return False, None
    db.session.commit()
    if done is not None:
        flash(done(result) if callable(done) else done, "info")
    return True, result


def flash_problems(error, form=None) -> None:
    """Undo the failed unit of work and show each problem: next to its field when the page has the `form` that
    field belongs to, else at the top naming it."""
    from flask import flash

    db.session.rollback()
    if form is not None:
        show_problems(form, error.problems)
        return
    for problem in error.problems:
        flash(problem, "error")


#: where programs call: an error there answers JSON, even for a path or method that no route matches
API_PATHS = "/api/"


def _error_page(status: int, title: str, message: str, headers: dict[str, str] | None = None):
    db.session.rollback()
    if request.path.startswith(API_PATHS):
        return jsonify(error=message), status, headers or {}
    return render_template("errors/error.html", status=status, title=title, message=message), status, headers or {}


def refuse_unusable_input():
    """before_request, for the pages (the API checks its own input and answers JSON): a NUL character in the path,
    the query or a form is refused naming its field, since PostgreSQL text cannot hold one (browsers never send
    one: it is a forged request or a broken client); a page number past MAX_PAGE is a page that does not exist."""
    if request.path.startswith(API_PATHS):
        return
    given = [*(request.view_args or {}).items(), *request.args.items(multi=True), *request.form.items(multi=True)]
    for name, value in given:
        if isinstance(value, str) and "\x00" in value:
            abort(400, description=f"{name}: contains a NUL character")
    if request.args.get("page", 1, type=int) > MAX_PAGE:
        abort(404)


def _method_not_allowed(error: MethodNotAllowed):
    allow = {"Allow": ", ".join(sorted(error.valid_methods or ()))}
    return _error_page(405, "Not allowed here", "This address does not take that method.", allow)


class RowIdConverter(IntegerConverter):
    """What `<int:...>` matches in every route: the numbers in our paths are ids (and versions) stored as SQL
    INTEGER, so one past MAX_ROW_ID names no row. Such a path matches no route (404) instead of reaching a query
    that PostgreSQL (past 2**31 - 1) or SQLite's driver (past 2**63 - 1) refuses with a server error."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **{"min": 1, "max": MAX_ROW_ID, **kwargs})


def register_web(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.register_blueprint(bp)
    app.before_request(refuse_unusable_input)
    app.after_request(add_security_headers)
    app.jinja_env.globals["can"] = can
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["say"] = say
    app.jinja_env.filters["sanitized"] = lambda html: Markup(clean_html(html))  # people's HTML, shown as HTML
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["zone_names"] = zone_names
    app.register_error_handler(400, lambda e: _error_page(400, "Bad request", e.description))
    app.register_error_handler(403, lambda e: _error_page(403, "Not allowed", "Your role cannot do this."))
    app.register_error_handler(404, lambda e: _error_page(404, "Not found", "There is nothing here."))
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(413, lambda e: _error_page(413, "Too large", "The upload is larger than allowed."))
    app.register_error_handler(
        429, lambda e: _error_page(429, "Too many attempts", "Too many attempts: wait a minute and try again.")
    )
    app.register_error_handler(
        CSRFError, lambda e: _error_page(400, "Form expired", "The form was stale or forged; reload and retry.")
    )
    app.register_error_handler(500, lambda e: _error_page(500, "Server error", "Something failed; it is logged."))


def day_argument(name: str) -> date | None:
    """A list page's day filter (`YYYY-MM-DD`), None when empty. A malformed day, or one outside the years we record
    (core.clock.YEARS: a filter to 9999-12-31 would end at a midnight that does not exist), is refused naming the
    argument rather than ignored: a list filtered otherwise than asked could be taken for the answer."""
    text = request.args.get(name, "")
    try:
        return parse_day(text, name) if text else None
    except ValueError as error:
        abort(400, description=str(error))


def page_url(number: int) -> str:
    """The current page's URL with its filters kept and another page number."""
    from flask import url_for

    return url_for(request.endpoint, **{**(request.view_args or {}), **request.args.to_dict(), "page": number})


def local_time(value, zone_name: str | None = None) -> Markup:
    """A UTC instant shown once, on the viewer's clock, with the same instant in UTC on hover (its title) and for
    machines (`datetime`): notices quote both, but a page that prints both in full reads every time twice."""
    if value is None:
        return Markup("—")
    zone_name = zone_name or _viewer_zone()
    utc = value.astimezone(UTC)
    shown = utc.strftime("%Y-%m-%d %H:%M UTC")
    if zone_name != "UTC":
        shown = f"{utc.astimezone(ZoneInfo(zone_name)):%Y-%m-%d %H:%M %Z}"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M UTC"), shown
    )


def say(label: Label) -> str:
    """A value's words (`{{ message.state|say }}`), in the page's language: the team's pages speak English, a
    customer's page the customer's language. No page shows a value as it is stored."""
    from flask_babel import pgettext

    return pgettext(label.context, label.english)


def use_language(language: str) -> None:
    """A page written for someone outside (the acknowledgement page, in the customer's language) sets its
    language; Flask-Babel's `_()` and `pgettext()` then speak it for the rest of the request."""
    from flask_babel import refresh

    g.page_language = language
    refresh()


def request_language() -> str:
    """Flask-Babel's locale: the language a view set, else English, the language of the team's pages."""
    return g.get("page_language", SOURCE_LANGUAGE)


def _viewer_zone() -> str:
    """Looked up once per request: a page shows hundreds of times."""
    if "viewer_zone" not in g:
        g.viewer_zone = current_user.time_zone if current_user.is_authenticated else "UTC"
    return g.viewer_zone
