"""Writing audit events: explicitly (logins, imports) and automatically for every audited model change."""

import contextlib
import contextvars
import enum
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from flask import current_app, has_request_context
from sqlalchemy import Connection, event, func, inspect, select, text
from sqlalchemy.orm import Session

from breachdesk.audit.chain import (
    ChainBreak,
    Checkpoint,
    checkpoint_problems,
    event_hash,
    find_breaks,
    read_checkpoint,
    write_checkpoint,
)
from breachdesk.audit.models import GENESIS_HASH, AuditEvent
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError

#: Set by CLI commands and jobs, which have no logged-in user.
_actor_override: contextvars.ContextVar[tuple[str, int | None] | None] = contextvars.ContextVar(
    "audit_actor", default=None
)

T = TypeVar("T")

# Serialises writers on PostgreSQL so ids follow the chain; SQLite has a single writer already.
_CHAIN_LOCK_KEY = 0x42D35C


class Audited:
    """Mixin: every insert, update and delete of the model becomes an audit event.

    `__audit_secret__` names columns whose values must never be copied into the log (only "changed").
    """

    __audit_secret__: tuple[str, ...] = ()

    def audit_label(self) -> str:
        return str(getattr(self, "key", None) or getattr(self, "id", ""))


@contextlib.contextmanager
def acting_as(actor: str, user_id: int | None = None) -> Iterator[None]:
    token = _actor_override.set((actor, user_id))
    try:
        yield
    finally:
        _actor_override.reset(token)


def carrying_actor(job: Callable[..., T]) -> Callable[..., T]:
    """`job` to run in another thread as whoever is acting now: that thread has no request to ask."""
    actor = current_actor()

    def run(*args: Any, **kwargs: Any) -> T:
        with acting_as(*actor):
            return job(*args, **kwargs)

    return run


def current_actor() -> tuple[str, int | None]:
    override = _actor_override.get()
    if override:
        return override
    if has_request_context():
        from flask_login import current_user

        if current_user.is_authenticated:
            return f"user:{current_user.username}", current_user.id
        return "anonymous", None
    return "system", None


def json_safe(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Audited):
        return value.audit_label()
    return str(value)


def chain_head(connection: Connection | Session) -> str:
    """The hash of the latest event. Every change is audited in its own transaction, so the head names the
    state of the data: readers may cache what they derive from it until the head moves."""
    return connection.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar() or GENESIS_HASH


def append_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert events at the head of the chain, inside the caller's transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev = chain_head(connection)
    actor, user_id = current_actor()
    key = audit_key()
    chained = []
    for row in rows:
        row = {"actor": actor, "actor_user_id": user_id, "occurred_at": now_utc(), "before": None, "after": None, **row}
        row["before"], row["after"] = json_safe(row["before"]), json_safe(row["after"])
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(
            key,
            prev,
            row["occurred_at"],
            row["actor"],
            row["action"],
            row["entity_type"],
            str(row["entity_id"]),
            row["before"],
            row["after"],
        )
        chained.append(row)
    connection.execute(AuditEvent.__table__.insert(), chained)  # one executemany: imports write thousands


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    append_events(
        session, [dict(action=action, entity_type=entity_type, entity_id=str(entity_id), before=before, after=after)]
    )


def audit_key() -> bytes:
    """The key of the chain's HMAC, from the configuration (AUDIT_KEY): kept out of the database, so whoever can
    write to it cannot recompute the chain after an edit."""
    return current_app.config["AUDIT_KEY"].encode("utf-8")


def verify_chain(session: Session, batch: int = 5000) -> tuple[int, list[ChainBreak]]:
    """Return how many events were checked and every break found."""
    checked = session.scalar(select(func.count()).select_from(AuditEvent))
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch))
    return checked, find_breaks(events, GENESIS_HASH, audit_key())


def make_checkpoint(session: Session) -> str:
    """A signed checkpoint of the chain as it stands (its newest event and how many there are), as file text."""
    head = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        raise DomainError("the audit log is empty: there is nothing to checkpoint yet")
    checkpoint = Checkpoint(head.id, head.hash, _count_up_to(session, head.id), now_utc().isoformat())
    return write_checkpoint(audit_key(), checkpoint)


def check_checkpoint(session: Session, document: str) -> list[str]:
    """What the log now contradicts in a checkpoint: a cut tail, a rewritten head, events removed before it.
    Raises CheckpointError when the file cannot be read or its signature is not ours."""
    checkpoint = read_checkpoint(audit_key(), document)
    hash_at_head = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == checkpoint.head_id))
    return checkpoint_problems(checkpoint, hash_at_head, _count_up_to(session, checkpoint.head_id))


def _count_up_to(session: Session, event_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= event_id))


# --- automatic capture ------------------------------------------------------------------------


def _snapshot(obj: Audited) -> dict[str, Any]:
    state = inspect(obj)
    mapper = state.mapper
    snap: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        name = prop.key
        if name == "id":
            continue
        snap[name] = "(secret)" if name in obj.__audit_secret__ else json_safe(getattr(obj, name))
    for rel in mapper.relationships:
        if rel.uselist and issubclass(rel.mapper.class_, Audited) and rel.secondary is not None:
            snap[rel.key] = sorted(json_safe(list(getattr(obj, rel.key))), key=str)
    return snap


def _changes(obj: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        hist = state.attrs[prop.key].history
        if not hist.has_changes() or not hist.deleted and not hist.added:
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old == new:
            continue
        secret = prop.key in obj.__audit_secret__
        before[prop.key] = "(secret)" if secret else json_safe(old)
        after[prop.key] = "(changed)" if secret else json_safe(new)
    for rel in state.mapper.relationships:
        if not (rel.uselist and rel.secondary is not None and issubclass(rel.mapper.class_, Audited)):
            continue
        hist = state.attrs[rel.key].history
        if not (hist.added or hist.deleted):
            continue
        now = {o.audit_label() for o in getattr(obj, rel.key)}
        was = (now - {o.audit_label() for o in hist.added}) | {o.audit_label() for o in hist.deleted}
        if now != was:
            before[rel.key], after[rel.key] = sorted(was), sorted(now)
    return before, after


def _entity_type(obj: Any) -> str:
    return obj.__tablename__


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, _flush_context) -> None:
    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(
                dict(action="create", entity_type=_entity_type(obj), entity_id=obj.audit_label(), after=_snapshot(obj))
            )
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj):
            before, after = _changes(obj)
            if after or before:
                rows.append(
                    dict(
                        action="update",
                        entity_type=_entity_type(obj),
                        entity_id=obj.audit_label(),
                        before=before,
                        after=after,
                    )
                )
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append(
                dict(action="delete", entity_type=_entity_type(obj), entity_id=obj.audit_label(), before=_snapshot(obj))
            )
    append_events(session, rows)


@event.listens_for(Session, "before_flush")
def _refuse_audit_edits(session: Session, _flush_context, _instances) -> None:
    """The log is append-only through the application; tampering at the SQL level is what `verify` finds."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise PermissionError("audit events are append-only")
