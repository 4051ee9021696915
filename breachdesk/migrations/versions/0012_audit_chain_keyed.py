"""audit_events: the hash chain keyed, HMAC-SHA256 under the audit key instead of plain SHA-256

With a public hash, whoever could write to the table could edit an event and recompute every later hash. The
existing chain is checked first with the old hash; a broken one stops the upgrade, naming the first break,
because re-keying it would make the tampered rows verify (the table is left as it was, evidence intact). Then
every event is hashed again in id order with the key from the configuration (AUDIT_KEY, never stored in the
database); contents and ids are unchanged. No checkpoint can name an unkeyed hash: checkpoints came with the key.
The downgrade does the reverse, checking the keyed chain first.

The payload is written out here as it is at this revision, as a migration never imports application code;
tests/audit/test_keyed_chain.py checks that a re-keyed chain verifies with breachdesk/audit/chain.py.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00

"""
import hashlib
import hmac
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
BATCH = 5000

events = sa.table(
    'audit_events',
    sa.column('id', sa.Integer),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('actor', sa.String),
    sa.column('action', sa.String),
    sa.column('entity_type', sa.String),
    sa.column('entity_id', sa.String),
    sa.column('before', sa.JSON),
    sa.column('after', sa.JSON),
    sa.column('prev_hash', sa.String),
    sa.column('hash', sa.String),
)


def upgrade():
    _rehash(_plain, _keyed, "the upgrade to a keyed chain")


def downgrade():
    _rehash(_keyed, _plain, "the downgrade to an unkeyed chain")


def _payload(prev_hash, row) -> bytes:
    occurred_at = row.occurred_at.replace(tzinfo=UTC) if row.occurred_at.tzinfo is None else row.occurred_at
    return json.dumps(
        [prev_hash, occurred_at.astimezone(UTC).isoformat(), row.actor, row.action, row.entity_type, row.entity_id,
         row.before, row.after],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    ).encode("utf-8")


def _plain(prev_hash, row) -> str:
    return hashlib.sha256(_payload(prev_hash, row)).hexdigest()


def _keyed(prev_hash, row) -> str:
    return hmac.new(current_app.config["AUDIT_KEY"].encode("utf-8"), _payload(prev_hash, row), hashlib.sha256).hexdigest()


def _rehash(old, new, step: str) -> None:
    """Check every event with the `old` hash, in id order, and give it its `new` hash and link."""
    connection = op.get_bind()
    old_prev = new_prev = GENESIS_HASH
    last_id = 0
    while rows := connection.execute(
        sa.select(events).where(events.c.id > last_id).order_by(events.c.id).limit(BATCH)
    ).all():
        changes = []
        for row in rows:
            if row.prev_hash != old_prev or old(row.prev_hash, row) != row.hash:
                raise RuntimeError(
                    f"audit event {row.id} breaks the chain (edited, or an event before it removed): {step} "
                    "stops here and changes nothing; the release in place before it lists every break with "
                    "`breachdesk audit verify`"
                )
            new_hash = new(new_prev, row)
            changes.append({"event_id": row.id, "new_prev": new_prev, "new_hash": new_hash})
            old_prev, new_prev = row.hash, new_hash
        connection.execute(
            events.update()
            .where(events.c.id == sa.bindparam("event_id"))
            .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")),
            changes,
        )
        last_id = rows[-1].id
