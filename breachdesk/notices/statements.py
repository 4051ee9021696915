"""The statement for recipients: which of its parts an incident's duties ask for, reading and writing it.

The privacy team writes it per language; the audit log records every change (Statement is Audited). Callers
commit.
"""

from sqlalchemy import select

from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.rules import Fact, Rule, shipped_facts, shipped_rules
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.inventory.models import Language
from breachdesk.notices.checklist import STATEMENT_PARTS
from breachdesk.notices.models import Statement

#: a statement's part is text for a letter, not a book
MAX_LENGTH = 20_000


def facts_asked(rules: list[Rule]) -> list[Fact]:
    """The facts a person writes that these rules' notices need, in the order of the facts table: their
    content and follow-up items, the reasons for a delay where a regime asks for them, and the pending
    information wherever the law lets an item be "not yet known"."""
    needed = set()
    for rule in rules:
        for item in (*rule.content, *(rule.followup.content if rule.followup else ())):
            needed.update(item.satisfied_by)
            if item.where_possible:
                needed.add("pending_information")
        if rule.late:
            needed.add("delay_reasons")
    return [fact for fact in shipped_facts().values() if fact.written and fact.id in needed]


def rules_of(incident_id: int) -> list[Rule]:
    """The rules of the incident's duties that may still need a notice."""
    ids = set(
        db.session.scalars(
            select(Obligation.rule_id).where(
                Obligation.incident_id == incident_id, Obligation.status != ObligationStatus.NOT_REQUIRED
            )
        )
    )
    return [rule for rule in shipped_rules() if rule.id in ids]


def statement_of(incident_id: int, language: str) -> Statement | None:
    return db.session.scalar(
        select(Statement).where(Statement.incident_id == incident_id, Statement.language == language)
    )


def check_language(language: str) -> str:
    if language not in {lang.value for lang in Language}:
        raise DomainError(f"statement: no language {language!r} (one of {', '.join(lang.value for lang in Language)})")
    return language


def save_statement(incident: Incident, language: str, values: dict[str, str]) -> Statement:
    """Write the parts and answers given (fact id -> text) into the incident's statement in `language`. Text
    is kept as written: the templates show it escaped, and never evaluate it."""
    check_language(language)
    facts = shipped_facts()
    problems = [f"{name}: not a fact a person writes" for name in values if not getattr(facts.get(name), "written", 0)]
    problems += [
        f"{name}: at most {MAX_LENGTH:,} characters" for name, text in values.items() if len(text) > MAX_LENGTH
    ]
    if problems:
        raise ValidationFailed(problems)
    statement = statement_of(incident.id, language) or Statement(incident_id=incident.id, language=language)
    answers = dict(statement.answers or {})
    for name, text in values.items():
        text = text.strip()
        if name in STATEMENT_PARTS:
            setattr(statement, name, text)
        elif text:
            answers[name] = text
        else:
            answers.pop(name, None)
    statement.answers = answers
    statement.updated_at = now_utc()
    db.session.add(statement)
    db.session.flush()
    return statement
