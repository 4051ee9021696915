"""From obligation to notice: render, freeze, edit, approve (writing the outbox in the same transaction).

A controller's notice is built from that controller's row of the impact snapshot only, so it can never carry
another customer's data. Callers commit.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Text, cast, func, insert, select
from sqlalchemy.orm import selectinload

from breachdesk.assessments.models import Assessment
from breachdesk.audit.services import append_events
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.html import clean_html
from breachdesk.core.i18n import Label, country_zone
from breachdesk.core.progress import Progress
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import PER_CUSTOMER
from breachdesk.deadlines.rules import Rule, shipped_facts, shipped_rules
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.models import Incident
from breachdesk.inventory.models import Customer, Organisation
from breachdesk.inventory.regions import within
from breachdesk.inventory.taxonomy import sensitivity_of
from breachdesk.notices import rendering
from breachdesk.notices.checklist import DELAY_ITEM_ID, Check, checklist, known_facts, missing
from breachdesk.notices.models import Notice, NoticeStatus, NoticeTemplate, OutboxMessage, OutboxStatus
from breachdesk.notices.statements import statement_of
from breachdesk.notices.words import in_words, words_in

FRENCH_SPEAKING = {"FR", "BE", "LU", "MC"}
#: provider events that mean the message will not arrive
UNDELIVERED = ("bounce", "dropped")
ACK_SALT = "notice-acknowledgement"


# --- which template, which language ----------------------------------------------------------------------


def kind_for(obligation: Obligation, language: str) -> str:
    """A notice is written by its rule's template, initial and follow-ups alike: no GDPR letter for NIS2; a rule
    without one of its own is written by the shared template it names (rules.yaml `template:`)."""
    return rendering.template_kind(rule_of(obligation), language)


def language_for(customer: Customer | None, organisation: Organisation | None, rule: Rule) -> str:
    """The reader's language: our customer's own; else the one the rule's recipients read (a Texas attorney
    general reads English whatever our country); else our country's."""
    if customer is not None:
        return str(customer.language)
    if rule.reader_language:
        return rule.reader_language
    return "fr" if organisation is not None and organisation.country in FRENCH_SPEAKING else "en"


def current_template(kind: str, language: str) -> tuple[int, str]:
    """(version, source): the admin's latest version, else the shipped default (version 0)."""
    latest = db.session.scalar(
        select(NoticeTemplate)
        .where(NoticeTemplate.kind == kind, NoticeTemplate.language == language)
        .order_by(NoticeTemplate.version.desc())
        .limit(1)
    )
    if latest is not None:
        return latest.version, latest.source
    if not rendering.has_default(kind, language):
        raise DomainError(
            f"template: none for {kind} in {words_in('en').language_name(language)} ({language}); no notice is "
            f"written from another rule's template or in another language (templates/notices/{kind}.{language}.j2)"
        )
    return 0, rendering.default_source(kind, language)


# --- the variables a template sees ---------------------------------------------------------------------


def _organisation(row: Organisation | None) -> dict[str, Any]:
    names = ("name", "country", "lead_supervisory_authority", "dpo_name", "dpo_email")
    return {n: getattr(row, n) if row else "" for n in names}


def _incident(incident: Incident) -> dict[str, Any]:
    """The incident's facts a recipient may read; its title, description, notes and containment are the
    team's own words and stay inside (the statement says what recipients are told)."""
    return {
        "id": incident.id,
        "aware_at": incident.aware_at,
        "detected_at": incident.detected_at,
        "occurred_from": incident.occurred_from,
        "occurred_to": incident.occurred_to,
        "nature": list(incident.nature or []),
        "cause": incident.cause.value if incident.cause else None,
        "encrypted": incident.encrypted,
        "key_compromised": incident.key_compromised,
    }


def impact_rows(snapshot: ImpactSnapshot, keys: list[str], activities: bool = True) -> dict[str, dict[str, Any]]:
    """The snapshot's rows of these controllers, by key, in one query: each its own subjects, counts and
    categories, nobody else's; and, unless told not to, the names of the activities that reach it. Only a
    notice's words need those: a checklist and the comparison of two snapshots do not. A controller the snapshot
    does not reach has no row."""
    if not keys:
        return {}
    figures = (
        ImpactCustomer.data_subjects,
        ImpactCustomer.people,
        ImpactCustomer.records,
        ImpactCustomer.data_categories,
        ImpactCustomer.sensitivity,
    )
    rows = db.session.execute(
        select(ImpactCustomer.key, *figures, *([ImpactCustomer.activity_keys] if activities else [])).where(
            ImpactCustomer.snapshot_id == snapshot.id, ImpactCustomer.key.in_(keys)
        )
    )
    names = {a["key"]: a["name"] for a in snapshot.activities}
    return {row.key: _impact_of(row, names if activities else None) for row in rows}


def _impact_of(row, activity_names: dict[str, str] | None) -> dict[str, Any]:
    impact = {
        "data_subjects": dict(row.data_subjects),
        "people": row.people,
        "records": row.records,
        "data_categories": list(row.data_categories),
        "sensitivity": row.sensitivity,
    }
    if activity_names is not None:
        impact["activities"] = sorted({activity_names.get(key, key) for key in row.activity_keys})
    return impact


def _own_impact(snapshot: ImpactSnapshot | None, regions: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the authority and the data subjects are told: our controller-side data, else the totals; under a law
    bound to regions, its residents' only (a Texas notice counts Texans)."""
    if snapshot is not None and snapshot.own and regions:
        return _residents_impact(snapshot, regions)
    if snapshot is None:
        return {
            "data_subjects": {},
            "people": 0,
            "records": 0,
            "data_categories": [],
            "sensitivity": 0,
            "activities": [],
        }
    if not snapshot.own:
        return {
            "data_subjects": {},
            "people": snapshot.totals.get("data_subjects", 0),
            "records": snapshot.totals.get("records", 0),
            "data_categories": sorted({c for a in snapshot.activities for c in a["data_categories"]}),
            "sensitivity": max([a["sensitivity"] for a in snapshot.activities], default=0),
            "activities": sorted(a["name"] for a in snapshot.activities),
        }
    subjects: dict[str, int] = {}
    for own in snapshot.own:
        for category, people in own["data_subjects"].items():
            subjects[category] = max(subjects.get(category, 0), people)
    return {
        "data_subjects": subjects,
        "people": sum(subjects.values()),
        "records": sum(o["records"] for o in snapshot.own),
        "data_categories": sorted({c for o in snapshot.own for c in o["data_categories"]}),
        "sensitivity": max(o["sensitivity"] for o in snapshot.own),
        "activities": sorted(o["name"] for o in snapshot.own),
    }


def _residents_impact(snapshot: ImpactSnapshot, regions: tuple[str, ...]) -> dict[str, Any]:
    found = [entry for code, entry in snapshot.own_regions.items() if any(within(code, area) for area in regions)]
    subjects: dict[str, int] = {}
    for entry in found:
        for category, people in entry["data_subjects"].items():
            subjects[category] = subjects.get(category, 0) + people
    categories = sorted({c for entry in found for c in entry["data_categories"]})
    return {
        "data_subjects": subjects,
        "people": sum(subjects.values()),
        "records": sum(entry["records"] for entry in found),
        "data_categories": categories,
        "sensitivity": max((sensitivity_of(c) for c in categories), default=0),
        "activities": sorted(o["name"] for o in snapshot.own),
    }


def _regions_of(obligation: Obligation) -> tuple[str, ...]:
    """The regions whose residents the obligation's rule is about; none when it is about everyone."""
    when = rule_of(obligation).applies_when
    return when.regions if when else ()


def _assessment(incident_id: int) -> dict[str, Any] | None:
    found = db.session.scalar(select(Assessment).where(Assessment.incident_id == incident_id))
    if found is None:
        return None
    return {
        "score": found.score,
        "band": found.band,
        "exemptions": list(found.exemptions),
        "decision": {"authority": found.decision_authority.value, "data_subjects": found.decision_data_subjects.value},
    }


class Drafter:
    """Renders the notices of one incident. What they share (snapshot, organisation, assessment, templates,
    and per batch the customers and their impact rows) is fetched once: ten thousand notices must not run
    ten thousand times the same queries."""

    def __init__(self, incident: Incident):
        self.snapshot = current_snapshot(incident.id)
        self.organisation = db.session.get(Organisation, 1)
        self.shared = {
            "organisation": _organisation(self.organisation),
            "incident": _incident(incident),
            "assessment": _assessment(incident.id),
        }
        self.incident_id = incident.id
        self.statements: dict[str, dict[str, str] | None] = {}
        self.impacts: dict[str, dict[str, Any]] = {}
        self.customers: dict[int, Customer] = {}
        self.templates: dict[tuple[str, str], tuple[int, str]] = {}

    def prefetch(self, obligations: list[Obligation]) -> None:
        """What drafting these obligations' notices reads: their recipients' impact rows and customers."""
        self.prefetch_impacts(obligations)
        ids = [o.customer_id for o in obligations if o.customer_id and o.customer_id not in self.customers]
        if ids:
            for customer in db.session.scalars(
                select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.contacts))
            ):
                self.customers[customer.id] = customer

    def prefetch_impacts(self, obligations: list[Obligation], activities: bool = True) -> None:
        """The recipients' impact rows; without their activities for a Drafter that only checks notices
        (impact_rows): a checklist needs neither those nor the customers."""
        keys = [o.recipient_key for o in obligations if o.recipient_kind in PER_CUSTOMER]
        if self.snapshot is not None:
            self.impacts.update(impact_rows(self.snapshot, keys, activities))

    def forget(self) -> None:
        """Between batches: what one batch fetched is not needed by the next."""
        self.impacts.clear()
        self.customers.clear()

    def customer(self, obligation: Obligation) -> Customer | None:
        if obligation.customer_id and obligation.customer_id not in self.customers:
            self.prefetch([obligation])
        return self.customers.get(obligation.customer_id) if obligation.customer_id else None

    def impact(self, obligation: Obligation) -> dict[str, Any]:
        if obligation.recipient_kind not in PER_CUSTOMER:
            return _own_impact(self.snapshot, _regions_of(obligation))
        if obligation.recipient_key not in self.impacts:
            self.prefetch_impacts([obligation])
        impact = self.impacts.get(obligation.recipient_key)
        if impact is None:
            raise DomainError(f"notice: {obligation.recipient_key} is not in the current impact; recompute it")
        return impact

    def statement(self, language: str) -> dict[str, str]:
        """The statement's facts in `language`, refused naming the language when it has not been written:
        nobody translates a statement for us."""
        if language not in self.statements:
            found = statement_of(self.incident_id, language)
            self.statements[language] = found.facts() if found else None
        written = self.statements[language]
        if written is None:
            raise DomainError(
                f"statement: incident #{self.incident_id} has no statement in {words_in('en').language_name(language)}"
                f" ({language}); write it for recipients before generating a notice in that language"
            )
        return written

    def checks(self, obligation: Obligation, language: str, sequence: int, at: datetime) -> list[Check]:
        """The checklist of the notice in `language` (a follow-up from the second on), as things stand at `at`."""
        follow_up = sequence > 1
        known = known_facts(
            self.statement(language),
            self.shared["incident"],
            self.impact(obligation),
            self.shared["organisation"],
            follow_up,
        )
        return checklist(rule_of(obligation), known, follow_up=follow_up, late=is_late(obligation, at))

    def template(self, kind: str, language: str) -> tuple[int, str]:
        if (kind, language) not in self.templates:
            self.templates[kind, language] = current_template(kind, language)
        return self.templates[kind, language]

    def context(
        self,
        obligation: Obligation,
        followup: dict | None,
        link: str | None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """What the template sees, in words of the recipient's language (or `language`, for a preview)."""
        customer = self.customer(obligation)
        language = language or language_for(customer, self.organisation, rule_of(obligation))
        return in_words(
            {
                **self.shared,
                "statement": rendering.statement_variables(self.statement(language)),
                "impact": self.impact(obligation),
                "customer": {
                    "key": customer.key,
                    "name": customer.name,
                    "country": customer.country,
                    "language": str(customer.language),
                }
                if customer
                else None,
                "contacts": [{"role": c.role, "name": c.name, "email": c.email} for c in customer.contacts]
                if customer
                else [],
                "deadline": {
                    "regime": obligation.regime,
                    "stage": obligation.stage,
                    "source": obligation.source,
                    "due_at": obligation.due_at,
                    "target_at": obligation.target_at,
                    "recipient": obligation.recipient,
                    "recipient_kind": obligation.recipient_kind,
                    "late": is_late(obligation, now_utc()),
                },
                "followup": followup,
                "acknowledgement_link": link,
                "time_zone": zone_for(obligation, customer, self.organisation),
                "language": language,
                "items": rendering.content_items(rule_of(obligation)),
            }
        )

    def draft(self, obligation: Obligation, sequence: int, difference: dict | None) -> dict[str, Any]:
        """The frozen columns of a notice: rendered text, recipients, language, template version, and for a
        follow-up what changed (the difference, and the lines the notice said it in)."""
        customer = self.customer(obligation)
        language = language_for(customer, self.organisation, rule_of(obligation))
        kind = kind_for(obligation, language)
        version, source = self.template(kind, language)
        link = acknowledgement_link(obligation.id, sequence) if obligation.recipient_kind in PER_CUSTOMER else None
        followup = first_notice_facts(obligation, difference) if sequence > 1 else None
        context = self.context(obligation, followup, link, language)
        try:
            rendered = rendering.render(source, context)
        except rendering.TemplateProblem as problem:
            raise ValidationFailed([f"template {kind}.{language} v{version}: {p}" for p in problem.problems]) from None
        return {
            "kind": kind,
            "language": language,
            "template_version": version,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
            "sender_name": self.organisation.name if self.organisation else "",
            "snapshot_id": self.snapshot.id if self.snapshot else None,
            "recipients": sorted({c.email for c in customer.contacts}) if customer else [],
            "changes": {"lines": context["followup"]["changes"], "difference": difference} if followup else None,
        }


def notice_reference(notice: Notice) -> str:
    """How a recipient names a notice: ours (incident-obligation-sequence), and the authority's when it gave one."""
    ours = f"{notice.incident_id}-{notice.obligation_id}-{notice.sequence}"
    theirs = notice.obligation.sent_reference
    return f"{ours} ({theirs})" if theirs else ours


def first_notice_facts(obligation: Obligation, difference: dict | None) -> dict[str, Any]:
    """What a follow-up says of the first notice (Art. 33(4)): when it was sent and its reference, and what
    changed since (the difference, put in words by the template context)."""
    first = db.session.scalar(select(Notice).where(Notice.obligation_id == obligation.id, Notice.sequence == 1))
    return {
        "first_sent_at": obligation.sent_at or first.approved_at,
        "first_reference": notice_reference(first),
        "changes": difference,
    }


def rule_of(obligation: Obligation) -> Rule:
    found = next((r for r in shipped_rules() if r.id == obligation.rule_id), None)
    if found is None:
        raise DomainError(f"obligation: its rule {obligation.rule_id} is no longer in the rules table")
    return found


def is_late(obligation: Obligation, at: datetime) -> bool:
    """After its due time: the notice must then state the reasons for the delay where its regime asks."""
    return obligation.due_at is not None and at > obligation.due_at


def missing_items(checks: list[Check], language: str) -> list[str]:
    """Each missing item, naming what to write and where."""
    facts = shipped_facts()
    lines = []
    for check in missing(checks):
        written = [facts[f].label for f in check.lacking if facts[f].written]
        known = [facts[f].label for f in check.lacking if not facts[f].written]
        where = []
        if written:
            where.append(f"write in the statement ({language}): {'; '.join(written)}")
        if known:
            where.append(f"not known yet: {'; '.join(known)}")
        lines.append(f"{check.item.label} ({check.item.source}) is missing: {'. '.join(where)}")
    return lines


def notice_checklist(notice: Notice) -> list[Check]:
    return Drafter(notice.obligation.incident).checks(notice.obligation, notice.language, notice.sequence, now_utc())


def zone_for(obligation: Obligation, customer: Customer | None, organisation: Organisation | None) -> str:
    """The recipient's clock: the customer's zone; for an authority or the data subjects, the zone the rule
    counts its days in (rules.yaml `time_zone`), else our country's when it has one zone, else UTC."""
    if customer is not None:
        return customer.time_zone
    ruled = (obligation.terms or {}).get("period", {}).get("time_zone") or "UTC"
    if ruled != "UTC":
        return ruled
    return (country_zone(organisation.country) if organisation else None) or "UTC"


# --- acknowledgement links ------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ACK_SALT)


def acknowledgement_link(obligation_id: int, sequence: int) -> str:
    """Names the notice by its obligation and sequence, so a notice's link exists before its row does."""
    token = _serializer().dumps({"obligation": obligation_id, "sequence": sequence})
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/ack/{token}"


#: why a link is refused, in words the refusal page shows in its reader's language
LINK_EXPIRED = Label("acknowledgement link", "This link has expired. Ask the sender for a new one.")
LINK_ALTERED = Label("acknowledgement link", "This link is not valid: it may have been copied incompletely or altered.")
LINK_NOT_SENT = Label("acknowledgement link", "This link does not name a notice that was sent.")


class LinkRefused(DomainError):
    """A refused link: why, and the notice it names when that can be known. An expired link still carries
    its signature, so its notice (and so its reader's language and its sender) is known; an altered one
    names nothing."""

    def __init__(self, reason: Label, notice: Notice | None = None):
        super().__init__(reason.english)
        self.reason, self.notice = reason, notice


def notice_of_token(token: str) -> Notice:
    """The notice a signed link names; a tampered or expired link is refused and records nothing."""
    max_age = current_app.config["ACK_LINK_MAX_AGE_DAYS"] * 86400
    serializer = _serializer()
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:
        raise LinkRefused(LINK_EXPIRED, _named_notice(serializer.load_payload(expired.payload))) from None
    except BadSignature:
        raise LinkRefused(LINK_ALTERED) from None
    notice = _named_notice(payload)
    if notice is None or notice.status != NoticeStatus.APPROVED:
        raise LinkRefused(LINK_NOT_SENT, notice)
    return notice


def _named_notice(payload: Any) -> Notice | None:
    if not isinstance(payload, dict):
        return None
    return db.session.scalar(
        select(Notice).where(
            Notice.obligation_id == payload.get("obligation"), Notice.sequence == payload.get("sequence")
        )
    )


# --- generating, editing, approving ---------------------------------------------------------------------


def latest_notice(obligation_id: int) -> Notice | None:
    return db.session.scalar(
        select(Notice).where(Notice.obligation_id == obligation_id).order_by(Notice.sequence.desc()).limit(1)
    )


def changes_since(previous: Notice, obligation: Obligation, snapshot: ImpactSnapshot) -> dict[str, Any]:
    """What changed for this recipient between the snapshot of the previous notice and the current one, as
    values ({field: [before, after]}, or added / removed); empty when nothing did. A notice says it in its
    reader's words (notices/words.py)."""
    before_snapshot = db.session.get(ImpactSnapshot, previous.snapshot_id) if previous.snapshot_id else None
    return impact_difference(*impacts_between([obligation], before_snapshot, snapshot)[obligation.id])


def impacts_between(
    obligations: list[Obligation], before: ImpactSnapshot | None, after: ImpactSnapshot
) -> dict[int, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Each obligation's recipient's impact in two snapshots (None where a controller is not in one), by
    obligation id; each snapshot's rows of those controllers are read in one query."""
    keys = [o.recipient_key for o in obligations if o.recipient_kind in PER_CUSTOMER]
    earlier = impact_rows(before, keys, activities=False) if before is not None else {}
    later = impact_rows(after, keys, activities=False)
    return {
        o.id: (earlier.get(o.recipient_key), later.get(o.recipient_key))
        if o.recipient_kind in PER_CUSTOMER
        else (_own_impact(before, _regions_of(o)), _own_impact(after, _regions_of(o)))
        for o in obligations
    }


#: what a follow-up reports as changed for its recipient (notices/words.py says it in the reader's words)
IMPACT_FIELDS = ("data_subjects", "people", "records", "data_categories", "sensitivity")


def impact_difference(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """{field: [before, after]} for each field that differs between two impact rows of one recipient, or
    added / removed when the recipient is in only one of them; empty when nothing changed."""
    if after is None:
        return {"removed": True}
    if before is None:
        return {"added": True}
    return {f: [before[f], after[f]] for f in IMPACT_FIELDS if before[f] != after[f]}


def generate_notice(obligation: Obligation, author: User | None, follow_up: bool = False) -> Notice:
    """Render and freeze the notice of an obligation; regenerating a draft re-renders it."""
    if obligation.status == ObligationStatus.NOT_REQUIRED:
        raise DomainError("obligation: not required; there is nothing to notify")
    drafter = Drafter(obligation.incident)
    last = latest_notice(obligation.id)
    difference = None
    if last is not None and last.status == NoticeStatus.APPROVED:
        if not follow_up:
            raise DomainError("notice: already approved; write a follow-up for what changed since")
        difference = changes_since(last, obligation, drafter.snapshot)
        notice = Notice(obligation_id=obligation.id, incident_id=obligation.incident_id, sequence=last.sequence + 1)
    elif last is not None:
        notice = last
        difference = (last.changes or {}).get("difference")
    else:
        notice = Notice(obligation_id=obligation.id, incident_id=obligation.incident_id, sequence=1)
    drafted = drafter.draft(obligation, notice.sequence, difference)
    _refuse_late_without_reasons(
        drafter.checks(obligation, drafted["language"], notice.sequence, now_utc()), drafted["language"]
    )
    for name, value in drafted.items():
        setattr(notice, name, value)
    notice.author = author
    notice.status = NoticeStatus.DRAFT
    db.session.add(notice)
    db.session.flush()
    _audit([notice], "notice.generated", author)
    return notice


def _refuse_late_without_reasons(checks: list[Check], language: str) -> None:
    late = [c for c in missing(checks) if c.item.id == DELAY_ITEM_ID]
    if late:
        raise DomainError(
            f"notice: past its due time, it must state the reasons for the delay ({late[0].item.source}); write "
            f"them in the statement ({language})"
        )


def edit_notice(notice: Notice, subject: str, text_body: str, html_body: str, editor: User | None) -> None:
    if notice.status != NoticeStatus.DRAFT:
        raise DomainError("notice: approved notices are frozen; write a follow-up instead")
    problems = []
    if not subject.strip() or len(subject) > 300:
        problems.append("subject: 1 to 300 characters")
    if not text_body.strip():
        problems.append("text_body: cannot be empty")
    if problems:
        raise ValidationFailed(problems)
    notice.subject, notice.text_body, notice.html_body = " ".join(subject.split()), text_body, clean_html(html_body)
    notice.edited_at = now_utc()
    db.session.flush()
    _audit([notice], "notice.edited", editor)


def approve_notice(notice: Notice, approver: User) -> int:
    """Approve and queue: the outbox rows are written in this same transaction. Returns messages queued."""
    return approve_notices([notice], approver)


def approve_notices(notices: Iterable[Notice], approver: User) -> int:
    """Approve and queue each draft given, or none of them: what holds any back is refused, each named."""
    drafts = [n for n in notices if n.status == NoticeStatus.DRAFT]
    now = now_utc()
    held = holds(drafts, approver, now)
    problems = [f"notice {n.id} to {n.obligation.recipient}: {hold.says}" for n in drafts for hold in held[n.id]]
    if problems:
        raise ValidationFailed(problems)
    return _queue(drafts, approver, now)


def _queue(notices: list[Notice], approver: User, now: datetime) -> int:
    """Approved, frozen, and one outbox message per address, in the caller's transaction. Returns messages queued."""
    rows = []
    for notice in notices:
        notice.status, notice.approved_by, notice.approved_at = NoticeStatus.APPROVED, approver, now
        rows += [
            {
                "notice_id": notice.id,
                "recipient": email,
                "idempotency_key": idempotency_key(notice, email),
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
            for email in notice.recipients
        ]
    db.session.flush()
    if rows:
        db.session.execute(insert(OutboxMessage.__table__), rows)
    _audit(notices, "notice.approved", approver)
    return len(rows)


@dataclass(frozen=True)
class Hold:
    """Why a draft cannot be approved now: what the review counts it as (`kind`), and the sentence saying it."""

    kind: str
    says: str


#: the kinds of hold, as the review counts them
WRITTEN_BY_APPROVER = "written by you: another person must approve them (four-eyes)"
NO_LONGER_REQUIRED = "their duty is no longer required"
IMPACT_MOVED = "the impact changed since they were drafted: regenerate them"
ITEM_MISSING = "an item their rule requires is missing"
DELAY_UNSTATED = "past their due time, they do not state the reasons for the delay: regenerate them"
NOT_CHECKABLE = "their checklist cannot be worked out"


def holds(notices: list[Notice], approver: User, now: datetime) -> dict[int, list[Hold]]:
    """Everything that keeps each draft from being approved by `approver` at `now`, by notice id (empty: it
    may go). The review shows exactly these and approval refuses on exactly these."""
    found = {notice.id: _held_by_people(notice, approver) for notice in notices}
    for notice in _impact_moved(notices):
        found[notice.id].append(
            Hold(IMPACT_MOVED, "the impact changed since it was drafted; regenerate the draft before approving it")
        )
    for notice_id, held in _held_by_checklist(notices, now).items():
        found[notice_id] += held
    return found


def _held_by_people(notice: Notice, approver: User) -> list[Hold]:
    held = []
    if current_app.config["NOTICE_FOUR_EYES"] and notice.author_id is not None and notice.author_id == approver.id:
        held.append(Hold(WRITTEN_BY_APPROVER, "four-eyes rule: you wrote it, so another person must approve it"))
    if notice.obligation.status == ObligationStatus.NOT_REQUIRED:  # decided after the draft was written
        held.append(Hold(NO_LONGER_REQUIRED, "its obligation is not required; there is nothing to notify"))
    return held


def _impact_moved(notices: list[Notice]) -> list[Notice]:
    """The drafts whose recipient's impact changed since they were written: they would send old figures. The
    snapshots are compared once per snapshot a draft was written from, for all its drafts at once."""
    current = {incident_id: current_snapshot(incident_id) for incident_id in {n.incident_id for n in notices}}
    written_from: dict[tuple[int, int | None], list[Notice]] = defaultdict(list)
    for notice in notices:
        snapshot = current[notice.incident_id]
        if snapshot is not None and snapshot.id != notice.snapshot_id:
            written_from[notice.incident_id, notice.snapshot_id].append(notice)
    moved = []
    for (incident_id, snapshot_id), drafts in written_from.items():
        before = db.session.get(ImpactSnapshot, snapshot_id) if snapshot_id else None
        impacts = impacts_between([n.obligation for n in drafts], before, current[incident_id])
        moved += [n for n in drafts if impact_difference(*impacts[n.obligation_id])]
    return moved


def _held_by_checklist(notices: list[Notice], now: datetime) -> dict[int, list[Hold]]:
    """No notice leaves while an item its rule requires is missing (rules.yaml `content:`), nor, past its due
    time, without the reasons for the delay its regime asks for (`late:`)."""
    drafters: dict[int, Drafter] = {}
    for notice in notices:
        if notice.incident_id not in drafters:
            drafters[notice.incident_id] = Drafter(notice.obligation.incident)
    for incident_id, drafter in drafters.items():
        drafter.prefetch_impacts([n.obligation for n in notices if n.incident_id == incident_id], activities=False)
    return {n.id: _checklist_holds(n, drafters[n.incident_id], now) for n in notices}


def _checklist_holds(notice: Notice, drafter: Drafter, now: datetime) -> list[Hold]:
    try:
        checks = drafter.checks(notice.obligation, notice.language, notice.sequence, now)
    except DomainError as refused:  # no statement in its language, its recipient gone from the impact, ...
        return [Hold(NOT_CHECKABLE, str(refused))]
    held = [Hold(ITEM_MISSING, line) for line in missing_items(checks, notice.language)]
    reasons = drafter.statement(notice.language)["delay_reasons"]
    if any(c.item.id == DELAY_ITEM_ID for c in checks) and reasons not in notice.text_body:
        held.append(
            Hold(DELAY_UNSTATED, "past its due time, it must state the reasons for the delay; regenerate the draft")
        )
    return held


#: between the parts of a notice's content digest: no part can run into the next
_PART = "\x1f"


def content_digests(*where) -> dict[int, str]:
    """Each notice's digest of what its recipients get (subject, bodies, addresses, sender, language), by id,
    computed by the database: a review's fingerprint needs no body read into Python."""
    content = (
        Notice.subject
        + _PART
        + Notice.text_body
        + _PART
        + Notice.html_body
        + _PART
        + cast(Notice.recipients, Text)
        + _PART
        + Notice.sender_name
        + _PART
        + Notice.language
    )
    return dict(db.session.execute(select(Notice.id, func.md5(content)).where(*where)).tuples().all())


def idempotency_key(notice: Notice, recipient: str) -> str:
    """(notice, recipient, version): the unique constraint on it means a notice is never queued twice."""
    return f"{notice.id}:{recipient}:{notice.sequence}"


def _audit(notices: list, action: str, who: User | None = None) -> None:
    append_events(
        db.session,
        [
            {
                "action": action,
                "entity_type": "notices",
                "entity_id": f"{n.incident_id}:{n.obligation_id}:{n.sequence}",
                "after": {
                    "kind": n.kind,
                    "language": n.language,
                    "subject": n.subject,
                    "recipients": n.recipients,
                    "template_version": n.template_version,
                    "snapshot": n.snapshot_id,
                    "body_sha256": hashlib.sha256((n.text_body + "\0" + n.html_body).encode()).hexdigest(),
                    "by": who.username if who else None,
                },
            }
            for n in notices
        ],
    )


# --- all affected customers at once ---------------------------------------------------------------------


def customer_obligations_without_notice(incident_id: int) -> list[int]:
    noticed = select(Notice.obligation_id)
    return list(
        db.session.scalars(
            select(Obligation.id)
            .where(
                Obligation.incident_id == incident_id,
                Obligation.recipient_kind.in_(PER_CUSTOMER),
                Obligation.status == ObligationStatus.PENDING,
                Obligation.id.not_in(noticed),
            )
            .order_by(Obligation.recipient_key)
        )
    )


def generate_all(incident_id: int, author: User | None, progress: Progress, batch: int = 500) -> int:
    """A draft for every pending customer obligation that has none, committed in batches so that progress
    shows and a crash keeps what was done (a rerun continues where it stopped)."""
    ids = customer_obligations_without_notice(incident_id)
    drafter = Drafter(db.session.get(Incident, incident_id))
    progress.start("Generating notices", len(ids))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        obligations = db.session.scalars(
            select(Obligation).where(Obligation.id.in_(chunk)).order_by(Obligation.recipient_key)
        ).all()
        drafter.prefetch(obligations)
        now = now_utc()
        rows = [
            {
                **drafter.draft(o, 1, None),
                "obligation_id": o.id,
                "incident_id": incident_id,
                "sequence": 1,
                "status": NoticeStatus.DRAFT.value,
                "author_id": author.id if author else None,
                "created_at": now,
            }
            for o in obligations
        ]
        db.session.execute(insert(Notice.__table__), rows)  # Core: one executemany, no per-row flush
        _audit([SimpleNamespace(**row) for row in rows], "notice.generated", author)
        db.session.commit()
        drafter.forget()
        progress.advance(len(chunk))
    progress.finish()
    return len(ids)


@dataclass(frozen=True)
class Approval:
    """What a confirmed review came to: notices approved, e-mails queued, and reviewed drafts left as drafts
    because they changed, or something came to hold them, while the approval ran."""

    approved: int
    queued: int
    left: int


def approve_reviewed(
    incident_id: int, reviewed: Mapping[int, str], approver: User, progress: Progress, batch: int = 500
) -> Approval:
    """Approve the drafts a person reviewed (notice id -> content digest, notices/review.py) and queue their
    messages, a batch per transaction. Each draft goes only as it was reviewed: one edited, regenerated or held
    since stays a draft. Its rows are locked meanwhile (PostgreSQL), so none changes between check and approval."""
    ids = sorted(reviewed)
    approved = queued = 0
    progress.start("Approving and queueing", len(ids))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        notices = db.session.scalars(
            select(Notice)
            .where(Notice.id.in_(chunk), Notice.incident_id == incident_id, Notice.status == NoticeStatus.DRAFT)
            .options(selectinload(Notice.obligation))
            .order_by(Notice.id)
            .with_for_update(of=Notice)
        ).all()
        digests = content_digests(Notice.id.in_(chunk))
        now = now_utc()
        held = holds(notices, approver, now)
        going = [n for n in notices if digests[n.id] == reviewed[n.id] and not held[n.id]]
        queued += _queue(going, approver, now)
        approved += len(going)
        db.session.commit()
        progress.advance(len(chunk))
    progress.finish()
    return Approval(approved, queued, len(ids) - approved)


def notice_counts(incident_id: int) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Notice.status, func.count()).where(Notice.incident_id == incident_id).group_by(Notice.status)
        ).all()
    )


def first_sent(obligation: Obligation) -> datetime | None:
    return db.session.scalar(
        select(func.min(OutboxMessage.sent_at)).join(Notice).where(Notice.obligation_id == obligation.id)
    )


# --- templates ------------------------------------------------------------------------------------------------


def save_template(kind: str, language: str, source: str, note: str, author: User | None) -> NoticeTemplate:
    """A new version, refused with the line named when it does not parse, uses an unknown variable, or
    fails to render against the sample context."""
    try:
        for follow_up in (False, True):
            rendering.render(source, rendering.sample_context(language, follow_up))
    except rendering.TemplateProblem as problem:
        raise ValidationFailed([f"source: {p}" for p in problem.problems]) from None
    version, _ = current_template(kind, language)
    template = NoticeTemplate(
        kind=kind, language=language, version=version + 1, source=source, note=note.strip()[:300], created_by=author
    )
    db.session.add(template)
    db.session.flush()
    return template


def preview(source: str, language: str, obligation: Obligation | None) -> rendering.Rendered:
    """Render a source as typed, in the template's language, against a real obligation when one is chosen,
    else the sample."""
    try:
        if obligation is None:
            return rendering.render(source, rendering.sample_context(language))
        drafter = Drafter(obligation.incident)
        context = drafter.context(obligation, None, "https://breachdesk.invalid/ack/preview", language)
        return rendering.render(source, context)
    except rendering.TemplateProblem as problem:
        raise ValidationFailed(problem.problems) from None
    except DomainError as refused:
        raise ValidationFailed([str(refused)]) from None


def undelivered_count(incident_id: int) -> int:
    """Messages that failed or bounced or were dropped: a person must resend them to another contact."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .join(Notice)
        .where(
            Notice.incident_id == incident_id,
            (OutboxMessage.status == OutboxStatus.FAILED) | OutboxMessage.delivery.in_(UNDELIVERED),
        )
    )
