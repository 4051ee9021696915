"""Pure hash-chain rules: how an event's hash is computed under the audit key, how a sequence of events is
checked, and how a signed checkpoint of the chain's head is written, read and compared with the log."""

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EDITED = "content does not match its hash (the event was edited, or the audit key is not the one it was written with)"
RELINKED = "previous-hash link broken (an event before it was removed or reordered)"


def event_payload(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> bytes:
    """The bytes an event's hash covers: a JSON array with sorted keys and no spaces, in UTF-8 (the README
    documents it, so an auditor holding the key can recompute a hash with `openssl dgst -sha256 -hmac`)."""
    return json.dumps(
        [prev_hash, occurred_at.isoformat(), actor, action, entity_type, entity_id, before, after],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode("utf-8")


def event_hash(key: bytes, *fields: Any, **named: Any) -> str:
    """HMAC-SHA256 under the audit key of the payload of `event_payload`'s fields: without the key nobody can
    recompute the chain after editing an event, as anyone could with a public hash."""
    return hmac.new(key, event_payload(*fields, **named), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def find_breaks(events: Iterable[Any], genesis: str, key: bytes) -> list[ChainBreak]:
    """Walk events in id order; an edited row fails its own hash, a removed one breaks the next link."""
    breaks: list[ChainBreak] = []
    expected_prev = genesis
    for event in events:
        if event.prev_hash != expected_prev:
            breaks.append(ChainBreak(event.id, RELINKED))
        recomputed = event_hash(
            key,
            event.prev_hash,
            event.occurred_at,
            event.actor,
            event.action,
            event.entity_type,
            event.entity_id,
            event.before,
            event.after,
        )
        if not hmac.compare_digest(recomputed, event.hash):
            breaks.append(ChainBreak(event.id, EDITED))
        expected_prev = event.hash
    return breaks


# --- checkpoints ---------------------------------------------------------------------------------
# A keyed chain still cannot show that its newest events were deleted: what remains is a valid chain. A
# checkpoint, kept where the database's users cannot write, remembers the head and the count at a moment.

CHECKPOINT_FORMAT = "breachdesk-audit-checkpoint/1"
_FIELDS = ("format", "head_id", "head_hash", "count", "made_at", "signature")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted or read; the message names the problem."""


@dataclass(frozen=True)
class Checkpoint:
    #: the newest event when the checkpoint was made
    head_id: int
    head_hash: str
    #: how many events the log held up to and including the head
    count: int
    #: when it was made, as ISO 8601 text in UTC
    made_at: str


def _signed_fields(checkpoint: Checkpoint) -> dict[str, Any]:
    return dict(
        format=CHECKPOINT_FORMAT,
        head_id=checkpoint.head_id,
        head_hash=checkpoint.head_hash,
        count=checkpoint.count,
        made_at=checkpoint.made_at,
    )


def _signature(key: bytes, checkpoint: Checkpoint) -> str:
    # a JSON object, where an event's payload is an array: one key signs both without either passing for the other
    signed = json.dumps(_signed_fields(checkpoint), sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def write_checkpoint(key: bytes, checkpoint: Checkpoint) -> str:
    """The checkpoint file's text: its fields and their signature under the audit key."""
    return json.dumps({**_signed_fields(checkpoint), "signature": _signature(key, checkpoint)}, indent=2) + "\n"


def read_checkpoint(key: bytes, text: str) -> Checkpoint:
    """Parse and authenticate a checkpoint file; raise CheckpointError naming what is wrong with it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"not JSON ({error})") from None
    if not isinstance(document, dict):
        raise CheckpointError("not a JSON object")
    missing = [name for name in _FIELDS if name not in document]
    if missing:
        raise CheckpointError(f"missing field(s): {', '.join(missing)}")
    unexpected = sorted(set(document) - set(_FIELDS))
    if unexpected:
        raise CheckpointError(f"unexpected field(s): {', '.join(unexpected)}")
    if document["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"format is {document['format']!r}, expected {CHECKPOINT_FORMAT!r}")
    for name in ("head_id", "count"):
        if type(document[name]) is not int or document[name] < 1:
            raise CheckpointError(f"{name} must be a positive whole number, not {document[name]!r}")
    for name in ("head_hash", "signature"):
        if not isinstance(document[name], str) or not _HEX64.fullmatch(document[name]):
            raise CheckpointError(f"{name} must be 64 lower-case hexadecimal digits")
    if not isinstance(document["made_at"], str):
        raise CheckpointError("made_at must be ISO 8601 text")
    checkpoint = Checkpoint(document["head_id"], document["head_hash"], document["count"], document["made_at"])
    if not hmac.compare_digest(_signature(key, checkpoint), document["signature"]):
        raise CheckpointError("signature does not match (the file was edited, or signed with another audit key)")
    return checkpoint


def checkpoint_problems(checkpoint: Checkpoint, hash_at_head: str | None, count_to_head: int) -> list[str]:
    """Compare a checkpoint with the log as it is now: the hash of the event at the checkpoint's head id (None
    when that row is gone) and how many events there are up to it."""
    made = f"the checkpoint of {checkpoint.made_at}"
    if hash_at_head is None:
        return [f"truncated: event {checkpoint.head_id}, the newest at {made}, is gone from the log"]
    problems = []
    if hash_at_head != checkpoint.head_hash:
        problems.append(
            f"rewritten: event {checkpoint.head_id} is not the event {made} recorded (its hash differs: the log "
            "was rewritten, or cut and written again)"
        )
    if count_to_head != checkpoint.count:
        problems.append(
            f"{count_to_head} events up to event {checkpoint.head_id}, {made} recorded {checkpoint.count}: events "
            "before it were removed or inserted"
        )
    return problems
