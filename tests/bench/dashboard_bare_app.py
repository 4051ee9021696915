"""The dashboard benchmark's baseline app: BreachDesk's own app with two extra routes, served by gunicorn.

    .venv/bin/gunicorn --workers 4 --pythonpath tests/bench 'dashboard_bare_app:make_app()'   # the app's env

* GET /bench/bare: the SQL of GET /dashboard and nothing else: `counts(now)`, the first page of
  `pending_duties()` (PER_PAGE rows, fetched as plain rows through the session's connection: no ORM entities,
  and no pager count), `delivery_of(the page's ids)`, `incident_totals(now)`; answers a few numbers as JSON.
  No login, no template;
* GET /bench/view: for information, what the dashboard view calls (`db.paginate` over `pending_duties()`,
  its ORM entities, the same queries) but JSON instead of the template: the difference to /dashboard is the
  template (and the login), the difference to /bench/bare is the ORM (and the pager's count).

Both are allowed for PUBLIC (`allow(PUBLIC)`): the benchmark's clients need no session for them.
`add_routes(app)` adds them to any app (the benchmark's in-process measurements use it too);
`make_app()` is create_app() with them.
"""

from flask import Flask, jsonify

from breachdesk import create_app
from breachdesk.core.access import PUBLIC, allow
from breachdesk.core.clock import now_utc
from breachdesk.dashboard import queries
from breachdesk.dashboard.views import PER_PAGE  # the dashboard's page
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db

OBLIGATION_ID = Obligation.__table__.c.id


def page_rows() -> list:
    """The page the dashboard selects, the same statement, as plain rows."""
    return db.session.connection().execute(queries.pending_duties().limit(PER_PAGE)).all()


@allow(PUBLIC)
def bare():
    now = now_utc()
    counts = queries.counts(now)
    rows = page_rows()
    delivery = queries.delivery_of([row._mapping[OBLIGATION_ID] for row in rows])
    incidents = queries.incident_totals(now)
    return jsonify(rows=len(rows), delivery=len(delivery), incidents=len(incidents), **counts)


@allow(PUBLIC)
def view_data():
    now = now_utc()
    counts = queries.counts(now)
    rows = db.paginate(queries.pending_duties(), page=1, per_page=PER_PAGE).items
    delivery = queries.delivery_of([o.id for o in rows])
    incidents = queries.incident_totals(now)
    return jsonify(rows=len(rows), delivery=len(delivery), incidents=len(incidents), **counts)


def add_routes(app: Flask) -> Flask:
    app.add_url_rule("/bench/bare", "bench_bare", bare)
    app.add_url_rule("/bench/view", "bench_view", view_data)
    return app


def make_app() -> Flask:
    return add_routes(create_app())
