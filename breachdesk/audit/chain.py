"""Pure hash-chain rules: how an event's hash is computed and how a sequence of events is checked."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def event_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    payload = json.dumps(
        [prev_hash, occurred_at.isoformat(), actor, action, entity_type, entity_id, before, after],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def find_breaks(events: Iterable[Any], genesis: str) -> list[ChainBreak]:
    """Walk events in id order; an edited row fails its own hash, a removed one breaks the next link."""
    breaks: list[ChainBreak] = []
    expected_prev = genesis
    for event in events:
        if event.prev_hash != expected_prev:
            breaks.append(
                ChainBreak(event.id, "previous-hash link broken (an event before it was removed or reordered)")
            )
        recomputed = event_hash(
            event.prev_hash,
            event.occurred_at,
            event.actor,
            event.action,
            event.entity_type,
            event.entity_id,
            event.before,
            event.after,
        )
        if recomputed != event.hash:
            breaks.append(ChainBreak(event.id, "content does not match its hash (the event was edited)"))
        expected_prev = event.hash
    return breaks
