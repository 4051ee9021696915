"""The dashboard benchmark's baseline app: BreachDesk's own app with two extra routes, served by gunicorn.

    .venv/bin/gunicorn --workers 4 --pythonpath tests/bench 'dashboard_bare_app:make_app()'   # the app's env

* GET /bench/bare: the SQL of GET /dashboard and nothing else: paginate's COUNT and the first page of
  `pending_duties(now)` (100 rows, fetched as plain rows through the session's connection: no ORM
  entities), `counts(now)`, `delivery_of(the page's ids)`, `incident_totals(now)`; answers a few
  numbers as JSON. No login, no template;
* GET /bench/view: for information, what the dashboard view calls (db.paginate, its ORM entities,
  the same three queries) but JSON instead of the template: the difference to /dashboard is the
  template (and the login), the difference to /bench/bare is the ORM.

Both are allowed for PUBLIC (`allow(PUBLIC)`): the benchmark's clients need no session for them.
`add_routes(app)` adds them to any app (the benchmark's in-process measurements use it too);
`make_app()` is create_app() with them.
"""

from flask import Flask, jsonify
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from breachdesk import create_app
from breachdesk.auth.access import PUBLIC, allow
from breachdesk.core.clock import now_utc
from breachdesk.dashboard import queries
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db

PER_PAGE = 100  # the dashboard's page (db.paginate(..., per_page=100))
OBLIGATION_ID = Obligation.__table__.c.id


def page_count(now) -> int:
    """The COUNT db.paginate() runs (flask_sqlalchemy SelectPagination._query_count), the same statement."""
    sub = queries.pending_duties(now).options(lazyload("*")).order_by(None).subquery()
    return db.session.execute(select(func.count()).select_from(sub)).scalar()


def page_rows(now) -> list:
    """The page db.paginate() selects, the same statement, as plain rows."""
    return db.session.connection().execute(queries.pending_duties(now).limit(PER_PAGE).offset(0)).all()


@allow(PUBLIC)
def bare():
    now = now_utc()
    total = page_count(now)
    rows = page_rows(now)
    delivery = queries.delivery_of([row._mapping[OBLIGATION_ID] for row in rows])
    counts = queries.counts(now)
    incidents = queries.incident_totals(now)
    return jsonify(total=total, rows=len(rows), delivery=len(delivery), incidents=len(incidents), **counts)


@allow(PUBLIC)
def view_data():
    now = now_utc()
    page = db.paginate(queries.pending_duties(now), per_page=PER_PAGE, max_per_page=500)
    rows = list(page.items)
    delivery = queries.delivery_of([o.id for o in rows])
    counts = queries.counts(now)
    incidents = queries.incident_totals(now)
    return jsonify(total=page.total, rows=len(rows), delivery=len(delivery), incidents=len(incidents), **counts)


def add_routes(app: Flask) -> Flask:
    app.add_url_rule("/bench/bare", "bench_bare", bare)
    app.add_url_rule("/bench/view", "bench_view", view_data)
    return app


def make_app() -> Flask:
    return add_routes(create_app())
