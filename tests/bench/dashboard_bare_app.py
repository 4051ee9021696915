"""The dashboard benchmark's baseline app: BreachDesk's own app with two extra routes, served by gunicorn.

    .venv/bin/gunicorn --workers 4 --pythonpath tests/bench 'dashboard_bare_app:make_app()'   # the app's env

* GET /bench/bare: the SQL of GET /dashboard and nothing else: `counts(now)`, the first page of
  `incident_queue(now)` (PER_PAGE incidents, one aggregate row each), `soonest_duties()` of those incidents
  (DUTIES_SHOWN each), both fetched as plain rows through the session's connection (no ORM entities),
  `delivery_of(those duties)` and `incident_figures(those incidents)`; answers a few numbers as JSON. No login,
  no template;
* GET /bench/view: for information, what the dashboard view calls (`queue_page`: the same queries, the duties as
  ORM entities, each time and duty put into words) but JSON instead of the template: the difference to
  /dashboard is the template (and the login), the difference to /bench/bare is the ORM and the words.

Both are allowed for PUBLIC (`allow(PUBLIC)`): the benchmark's clients need no session for them.
`add_routes(app)` adds them to any app (the benchmark's in-process measurements use it too);
`make_app()` is create_app() with them.
"""

from flask import Flask, jsonify

from breachdesk import create_app
from breachdesk.core.access import PUBLIC, allow
from breachdesk.core.clock import now_utc
from breachdesk.dashboard import queries
from breachdesk.dashboard.views import DUTIES_SHOWN, PER_PAGE, Board, queue_page  # the dashboard's page
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db

OBLIGATION_ID = Obligation.__table__.c.id
#: the zone the benchmark's viewers are in
ZONE = "Europe/Paris"


def page_rows(now) -> list:
    """The page of the queue the dashboard selects, the same statement, as plain rows."""
    return db.session.connection().execute(queries.incident_queue(now).limit(PER_PAGE)).all()


def duty_rows(incident_ids: list[int]) -> list:
    """The duties the page shows, the same statement, as plain rows."""
    return db.session.connection().execute(queries.soonest_duties(incident_ids, DUTIES_SHOWN)).all()


@allow(PUBLIC)
def bare():
    now = now_utc()
    counts = queries.counts(now)
    ids = [row.id for row in page_rows(now)]
    duties = [row._mapping[OBLIGATION_ID] for row in duty_rows(ids)] if ids else []
    delivery = queries.delivery_of(duties)
    figures = queries.incident_figures(ids)
    return jsonify(rows=len(ids), duties=len(duties), delivery=len(delivery), figures=len(figures), **counts)


@allow(PUBLIC)
def view_data():
    board = Board(now_utc(), ZONE)
    counts = queries.counts(board.now)
    page, incidents = queue_page(board, counts, 1)
    duties = [duty for incident in incidents for duty in incident["duties"]]
    delivery = [duty for duty in duties if duty["mail"]]
    return jsonify(rows=len(incidents), duties=len(duties), delivery=len(delivery), figures=len(incidents), **counts)


def add_routes(app: Flask) -> Flask:
    app.add_url_rule("/bench/bare", "bench_bare", bare)
    app.add_url_rule("/bench/view", "bench_view", view_data)
    return app


def make_app() -> Flask:
    return add_routes(create_app())
