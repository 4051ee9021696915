"""Seeded synthetic incidents and obligations, written straight into a migrated BreachDesk database.

    .venv/bin/python tests/bench/generate_incidents.py URL [--incidents 5000] [--obligations 100000] [--seed 42]

The database must hold an inventory already (tests/bench/generate_inventory.py, imported): customer
duties go to its customers. Rows are written with SQLAlchemy Core executemany into the real tables
(`incidents`, `obligations`), without the application's services: no impact snapshot, no audit events,
no derivation. As a module: `generate(connection, incidents, obligations, seed, now)`.

What it writes, drawn from random.Random(f"breachdesk-bench:{seed}:incidents") so that the same
arguments give the same rows relative to `now` (the instant the run passes; due times move with it):

* `incidents` incidents, "Bench incident N", status "closed" for about one in ten (`CLOSED_SHARE`),
  "open" otherwise; aware_at between 30 days and 30 minutes before `now`, created_at a minute later;
  description "", nature [], data_categories [], containment "";
* `obligations` pending obligations shared among the incidents unevenly (Pareto weights, alpha
  `PARETO_ALPHA`, at most one duty per customer and rule in an incident: a few large incidents, many
  small ones, as in real life). In an incident of more than 3 duties, 2 go to authorities
  (gdpr-art33-1 to the supervisory authority, nis2-art23-early-warning to the CSIRT), the others to
  distinct customers (gdpr-art33-2, the customer's contractual hours: 24, 48 or 72);
* due_at uniform from 3 days before `now` to 10 days after it (`DUE_FROM_HOURS`, `DUE_TO_HOURS`), so
  about 23 % are overdue and about 4 % fall into the 12 h reminder windows; clock_start = the
  incident's awareness, anchor "awareness", terms the rule's (as_dict()), status "pending", flag,
  decided_by, rationale and sent_reference "".
"""

import argparse
import bisect
import datetime as dt
import itertools
import random
import sys
from typing import Any

#: incidents closed (their duties are off the dashboard and out of the scheduler's reach)
CLOSED_SHARE = 0.1
#: the duties' spread among incidents: Pareto weights with this alpha (1.16: the 80/20 rule)
PARETO_ALPHA = 1.16
#: due_at spread around `now`, in hours
DUE_FROM_HOURS = -72
DUE_TO_HOURS = 240
#: authority duties of an incident with more than AUTHORITY_MIN duties: (rule, recipient)
AUTHORITY_DUTIES = (("gdpr-art33-1", "CNIL"), ("nis2-art23-early-warning", "CERT-FR"))
AUTHORITY_MIN = 3
CUSTOMER_RULE = "gdpr-art33-2"
CONTRACT_HOURS = (24, 48, 72)
BATCH = 5000


def _sizes(rng: random.Random, incidents: int, obligations: int, most: int) -> list[int]:
    """Duties per incident: every incident at least one, the rest drawn by Pareto weight, none above `most`."""
    if obligations < incidents:
        raise ValueError(f"{obligations} obligations cannot give each of {incidents} incidents one")
    if obligations > incidents * most:
        raise ValueError(
            f"{obligations} obligations do not fit {incidents} incidents of at most {most} "
            f"(the customers plus {len(AUTHORITY_DUTIES)} authorities)"
        )
    weights = [rng.paretovariate(PARETO_ALPHA) for _ in range(incidents)]
    cumulative = list(itertools.accumulate(weights))
    sizes = [1] * incidents
    left = obligations - incidents
    while left:
        for _ in range(left):
            index = bisect.bisect_left(cumulative, rng.random() * cumulative[-1])
            index = min(index, incidents - 1)
            if sizes[index] < most:
                sizes[index] += 1
                left -= 1
        if left:  # the heaviest incidents are full: draw the rest among the others
            weights = [0.0 if s >= most else w for s, w in zip(sizes, weights, strict=True)]
            cumulative = list(itertools.accumulate(weights))
    return sizes


def rows(
    customers: list[tuple[int, str, str]], incidents: int, obligations: int, seed: int, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The incident rows (without id) and, per incident in the same order, its obligation rows (without
    incident_id). `customers`: (id, key, name), in a stable order."""
    from breachdesk.deadlines.rules import rule

    if now.tzinfo is None:
        raise ValueError("now: an aware instant")
    rng = random.Random(f"breachdesk-bench:{seed}:incidents")
    customer_rule = rule(CUSTOMER_RULE)
    customer_terms = {hours: customer_rule.terms(hours).as_dict() for hours in CONTRACT_HOURS}
    authorities = [(rule(rule_id), recipient) for rule_id, recipient in AUTHORITY_DUTIES]
    sizes = _sizes(rng, incidents, obligations, len(customers) + len(authorities))
    span = (DUE_TO_HOURS - DUE_FROM_HOURS) * 3600
    incident_rows, duty_rows = [], []
    for number, size in enumerate(sizes, 1):
        aware = now - dt.timedelta(seconds=rng.randint(30 * 60, 30 * 86400))
        created = aware + dt.timedelta(minutes=1)
        incident_rows.append(
            {
                "title": f"Bench incident {number}",
                "description": "",
                "aware_at": aware,
                "nature": [],
                "data_categories": [],
                "containment": "",
                "status": "closed" if rng.random() < CLOSED_SHARE else "open",
                "created_at": created,
            }
        )
        duties = []
        chosen = authorities if size > AUTHORITY_MIN else []
        for authority, recipient in chosen:
            duties.append(
                (
                    authority,
                    authority.recipient_kind,
                    authority.recipient_kind,
                    recipient,
                    None,
                    authority.terms().as_dict(),
                )
            )
        for customer_id, key, name in rng.sample(customers, size - len(chosen)):
            duties.append(
                (
                    customer_rule,
                    customer_rule.recipient_kind,
                    key,
                    name,
                    customer_id,
                    customer_terms[rng.choice(CONTRACT_HOURS)],
                )
            )
        duty_rows.append(
            [
                {
                    "rule_id": r.id,
                    "regime": r.regime,
                    "stage": r.stage,
                    "recipient_kind": kind,
                    "recipient_key": key,
                    "recipient": recipient,
                    "customer_id": customer_id,
                    "condition": r.condition,
                    "source": r.source,
                    "terms": terms,
                    "anchor": "awareness",
                    "clock_start": aware,
                    "due_at": now + dt.timedelta(seconds=DUE_FROM_HOURS * 3600 + rng.randrange(span)),
                    "target_at": None,
                    "status": "pending",
                    "flag": "",
                    "sent_reference": "",
                    "decided_by": "",
                    "rationale": "",
                    "created_at": created,
                }
                for r, kind, key, recipient, customer_id, terms in duties
            ]
        )
    return incident_rows, duty_rows


def generate(connection, incidents: int, obligations: int, seed: int, now: dt.datetime) -> dict[str, Any]:
    """Insert the rows through `connection` (SQLAlchemy Core, executemany in batches; the caller commits).
    Returns what it wrote, counted the way the dashboard and the scheduler count."""
    from sqlalchemy import func, insert, select

    from breachdesk.deadlines.models import Obligation
    from breachdesk.incidents.models import Incident
    from breachdesk.inventory.models import Customer

    customers = [
        tuple(row)
        for row in connection.execute(select(Customer.id, Customer.key, Customer.name).order_by(Customer.key))
    ]
    if not customers:
        raise ValueError("no customers: import an inventory first")
    incident_rows, duty_rows = rows(customers, incidents, obligations, seed, now)
    first = connection.execute(select(func.coalesce(func.max(Incident.id), 0))).scalar_one() + 1
    table = Incident.__table__
    for start in range(0, len(incident_rows), BATCH):
        connection.execute(
            insert(table),
            [{"id": first + start + i, **row} for i, row in enumerate(incident_rows[start : start + BATCH])],
        )
    if connection.dialect.name == "postgresql":  # ids given explicitly: move the sequence past them
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT max(id) FROM incidents))"
        )
    flat = [{"incident_id": first + index, **duty} for index, duties in enumerate(duty_rows) for duty in duties]
    for start in range(0, len(flat), BATCH):
        connection.execute(insert(Obligation.__table__), flat[start : start + BATCH])
    open_ids = {first + i for i, row in enumerate(incident_rows) if row["status"] != "closed"}
    live = [d for d in flat if d["incident_id"] in open_ids]
    reminder_window = now + dt.timedelta(hours=12)
    return {
        "incidents": len(incident_rows),
        "open_incidents": len(open_ids),
        "obligations": len(flat),
        "pending_open": len(live),
        "overdue_open": sum(1 for d in live if d["due_at"] <= now),
        "in_reminder_windows_open": sum(1 for d in live if now < d["due_at"] <= reminder_window),
        "largest_incident": max(len(d) for d in duty_rows),
        "customers": len(customers),
        "now": now.isoformat(),
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of a migrated database holding an inventory")
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--obligations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    from sqlalchemy import create_engine

    import breachdesk.core.db  # noqa: F401 - SQLite pragmas (foreign keys, WAL) on every connection

    engine = create_engine(args.url)
    with engine.begin() as connection:
        summary = generate(connection, args.incidents, args.obligations, args.seed, dt.datetime.now(dt.UTC))
    engine.dispose()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
