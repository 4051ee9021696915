"""What a person sees and confirms before notices leave: for one draft, or all drafts of an incident, each
recipient with its addresses, language, rule, checklist and due time, what keeps a draft back, a summary over
all of them, and a fingerprint of it all. The confirmation carries the fingerprint back, so that it approves
exactly what was reviewed, and nothing if anything changed since (services.approve_reviewed).

Ten thousand drafts are reviewed in batches; their contents are digested by the database (services.content_digests),
so no body is read for the fingerprint.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from breachdesk.auth.models import User
from breachdesk.extensions import db
from breachdesk.notices.models import Notice, NoticeStatus
from breachdesk.notices.services import ITEM_MISSING, WRITTEN_BY_APPROVER, Hold, content_digests, holds

#: drafts read and judged at a time
BATCH = 500


@dataclass(frozen=True)
class Draft:
    """One draft as the review shows it."""

    id: int
    subject: str
    recipient: str
    addresses: tuple[str, ...]
    language: str
    regime: str
    stage: str
    due_at: datetime | None
    target_at: datetime | None
    holds: tuple[Hold, ...]
    #: its content as the database digests it (services.content_digests)
    digest: str

    @property
    def approvable(self) -> bool:
        return not self.holds

    @property
    def missing(self) -> list[str]:
        """The items its rule requires that it lacks, each naming what to write and where."""
        return [hold.says for hold in self.holds if hold.kind == ITEM_MISSING]

    @property
    def held_otherwise(self) -> list[str]:
        return [hold.says for hold in self.holds if hold.kind != ITEM_MISSING]

    @property
    def written_by_reviewer(self) -> bool:
        return any(hold.kind == WRITTEN_BY_APPROVER for hold in self.holds)


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation form carries back: the fingerprint of what the person saw, and its counts, which
    name what changed when the fingerprint no longer matches."""

    fingerprint: str
    drafts: int
    approvable: int
    emails: int


@dataclass
class Review:
    """The drafts under review, by id in id order."""

    drafts: dict[int, Draft]

    @cached_property
    def approvable(self) -> list[Draft]:
        return [d for d in self.drafts.values() if d.approvable]

    @cached_property
    def fingerprint(self) -> str:
        """Every draft's id, content digest and holds: another draft, another word in one, or another reason to
        hold one back gives another fingerprint."""
        lines = (f"{d.id}:{d.digest}:{'|'.join(h.says for h in d.holds)}" for d in self.drafts.values())
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    @property
    def emails(self) -> int:
        """The e-mails approval would queue."""
        return sum(len(d.addresses) for d in self.approvable)

    @property
    def emails_of_all(self) -> int:
        return sum(len(d.addresses) for d in self.drafts.values())

    @property
    def recipients(self) -> int:
        return len({d.recipient for d in self.drafts.values()})

    @property
    def without_email(self) -> int:
        """Drafts filed by hand (an authority's): approval queues nothing for them."""
        return sum(not d.addresses for d in self.drafts.values())

    @property
    def by_language(self) -> list[tuple[str, int]]:
        return Counter(d.language for d in self.drafts.values()).most_common()

    @property
    def by_rule(self) -> list[tuple[tuple[str, str], int]]:
        return Counter((d.regime, d.stage) for d in self.drafts.values()).most_common()

    @property
    def held(self) -> list[tuple[str, int]]:
        """How many drafts each kind of hold keeps back (a draft may be held for more than one reason)."""
        return Counter(kind for d in self.drafts.values() for kind in {h.kind for h in d.holds}).most_common()

    @property
    def written_by_reviewer(self) -> int:
        return sum(d.written_by_reviewer for d in self.drafts.values())

    def why_none(self) -> str | None:
        """Why nothing can be approved (the confirmation's button is then disabled), or None."""
        if not self.drafts:
            return "There are no drafts to approve."
        if self.written_by_reviewer == len(self.drafts):
            return "You wrote every draft here: the four-eyes rule asks another person to approve them."
        if not self.approvable:
            return "No draft here can be approved yet: the summary says what holds each back."
        return None

    def confirmation(self) -> Confirmation:
        return Confirmation(self.fingerprint, len(self.drafts), len(self.approvable), self.emails)

    def refusal(self, seen: Confirmation) -> str | None:
        """Why a confirmation of `seen` approves nothing, or None when it is this review and something in it can
        be approved."""
        if seen.fingerprint == self.fingerprint:
            return f"Nothing was approved. {self.why_none()}" if self.why_none() else None
        if seen.drafts != len(self.drafts):
            why = (
                f"{len(self.drafts)} drafts now, {seen.drafts} when you reviewed them: a draft was written, approved "
                "or withdrawn meanwhile"
            )
        elif seen.approvable != len(self.approvable):
            why = (
                f"{len(self.approvable)} can be approved now, {seen.approvable} when you reviewed them: a checklist, "
                "the impact, a due time or an author changed"
            )
        elif seen.emails != self.emails:
            why = "the e-mail addresses changed"
        else:
            why = "a draft was regenerated or edited"
        return f"Nothing was approved: what you reviewed has changed since ({why}). Review it again below."

    def reviewed(self) -> dict[int, str]:
        """What a confirmation approves: each approvable draft's id and the digest it was reviewed with."""
        return {d.id: d.digest for d in self.approvable}


def of_incident(incident_id: int, reviewer: User, now: datetime) -> Review:
    """Every draft of the incident."""
    return _review(Notice.incident_id == incident_id, reviewer, now)


def of_notice(notice_id: int, reviewer: User, now: datetime) -> Review:
    """One draft (none, when the notice is approved already)."""
    return _review(Notice.id == notice_id, reviewer, now)


def _review(scope, reviewer: User, now: datetime) -> Review:
    """Judged by services.holds, as approval judges them, a batch at a time. The HTML bodies are not read; the
    text is, where a late draft must state the reasons for its delay."""
    digests = content_digests(scope, Notice.status == NoticeStatus.DRAFT)
    ids = sorted(digests)
    drafts: dict[int, Draft] = {}
    for start in range(0, len(ids), BATCH):
        notices = db.session.scalars(
            select(Notice)
            .where(Notice.id.in_(ids[start : start + BATCH]), Notice.status == NoticeStatus.DRAFT)
            .options(selectinload(Notice.obligation), defer(Notice.html_body))
            .order_by(Notice.id)
        ).all()
        held = holds(notices, reviewer, now)
        drafts.update((n.id, _draft(n, held[n.id], digests[n.id])) for n in notices)
    return Review(drafts)


def _draft(notice: Notice, held: list[Hold], digest: str) -> Draft:
    obligation = notice.obligation
    return Draft(
        id=notice.id,
        subject=notice.subject,
        recipient=obligation.recipient,
        addresses=tuple(notice.recipients),
        language=notice.language,
        regime=obligation.regime,
        stage=obligation.stage,
        due_at=obligation.due_at,
        target_at=obligation.target_at,
        holds=tuple(held),
        digest=digest,
    )
