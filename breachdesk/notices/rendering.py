"""Rendering notice templates in Jinja's sandbox. Pure: no database, no Flask.

A template is one Jinja source with three blocks: `subject`, `text` and `html`. Admins edit these, so they
run in a `SandboxedEnvironment` (no attribute starting with `_`, no access to the application, its
configuration or Python internals) with `StrictUndefined`: a misspelt variable is an error, not a blank in a
letter to a regulator. A template is checked at save time against the documented variables and rendered
against a sample, and every problem names its line.
"""

import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from babel.numbers import format_decimal
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment, safe_range

from breachdesk.core.html import clean_html
from breachdesk.core.i18n import locale, localized_instant
from breachdesk.deadlines.rules import Rule, rule, shipped_facts, shipped_rules
from breachdesk.notices.words import SHIPPED_TEMPLATES, in_words

BLOCKS = ("subject", "text", "html")
DEFAULTS = SHIPPED_TEMPLATES  # shipped in the package

#: the variables a template may use, documented for the people who edit them (shown on the edit page). Every
#: value is in the notice's language and in words (notices/words.py): categories by their names, never a key.
VARIABLES = {
    "organisation": "us: name, country (its name), lead_supervisory_authority, dpo_name, dpo_email",
    "statement": "what the privacy team wrote for recipients, in the notice's language: what_happened, "
    "consequences, measures_taken, measures_proposed, advice, contact_point, delay_reasons, newly_known, "
    "pending_information, and every other fact a person writes (rules.yaml `facts:`), '' when not written",
    "incident": "id (our reference), aware_at, detected_at, occurred_from, occurred_to (instants: show them with "
    "`|when`), nature (list of words), cause (words, or None), encrypted, key_compromised. The incident's "
    "internal title, description and notes are not here: they never leave BreachDesk",
    "impact": "for this recipient only: data_subjects (category -> people), people, records, data_categories "
    "(list), sensitivity (0-4), activities (list of names, as the inventory writes them: in one language, so the "
    "shipped templates leave them out); for the authority and data subjects: our controller-side data. A category "
    "shows as its name; `category.description` says more",
    "customer": "the controller told (None for the authority and data subjects): key, name, country (its name), "
    "language (its name)",
    "contacts": "the customer's contacts: list of role (words), name, email",
    "deadline": "the obligation: regime, stage, source (the legal text it cites), due_at, target_at, recipient, "
    "recipient_kind (words), late (made after its due time: say the statement's delay_reasons, Art. 33(1))",
    "assessment": "severity score and band (words), decision (authority, data_subjects: words), exemptions (list "
    "of words); None before the risk is assessed",
    "followup": "None for the first notice; for a complementary one (Art. 33(4)): first_sent_at (the first notice's "
    "date), first_reference, changes (lines saying what changed for this recipient since); the statement's "
    "newly_known says what was previously unknown",
    "acknowledgement_link": "the signed link that confirms receipt (controllers only, else None)",
    "time_zone": "the recipient's time zone (the customer's; for an authority or data subjects, the regime's, "
    "else the organisation's country's, else UTC), used by `|when`",
    "language": "the notice's language code (en, fr): `|when` and `|number` write in it",
    "items": "what a notice under the duty's rule must say (rules.yaml `content`), in order: label (its heading, in "
    "the notice's language), facts (the ids of the facts that say it: a statement part when `statement` has it, "
    "else the incident's, the impact's or our own value); the shared templates (rules.yaml `template:`) write one "
    "section per item",
}


@pass_context
def when(context, value: datetime | None, zone: str | None = None) -> str:
    """`{{ incident.aware_at|when }}`: an instant on the recipient's clock, in words of the notice's language,
    with UTC beside it (`29 mars 2026 à 02:30 CEST (00:30 UTC)`); `|when("UTC")` names another zone."""
    if value is None:
        return "—"
    return localized_instant(value, zone or context.get("time_zone") or "UTC", context.get("language") or "en")


@pass_context
def number(context, value: int | None) -> str:
    """`1,400` in English, `1 400` in French: a whole number is grouped by threes with its language's separator,
    as Babel groups it in every language we write (tests/notices/test_rendering.py holds that); anything else
    goes through Babel."""
    if value is None:
        return "—"
    words = locale(context.get("language") or "en")
    if isinstance(value, int):
        return f"{value:,}".replace(",", words.number_symbols["latn"]["group"])
    return format_decimal(value, locale=words)


#: what one rendering of one block may spend: calls (filters, macros, methods) and `range` items together,
#: seconds, and characters of output; a notice uses a few hundred operations
MAX_OPERATIONS = 200_000
MAX_SECONDS = 2.0
MAX_OUTPUT = 1_000_000
_budget: ContextVar["Budget"] = ContextVar("template_budget")


class Budget:
    """Spent by every call and every `range` item of one rendering; exhausted, the rendering stops."""

    def __init__(self) -> None:
        self.left = MAX_OPERATIONS
        self.deadline = time.monotonic() + MAX_SECONDS

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SecurityError(f"the template does more than {MAX_OPERATIONS:,} operations")
        if self.left % 1000 == 0 and time.monotonic() > self.deadline:
            raise SecurityError(f"the template takes longer than {MAX_SECONDS:g} s to render")


def _spend() -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.spend()


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, bounded: no operation that builds a huge string, list or number, and a budget of
    operations and time per rendering, so a template saved by an admin cannot exhaust the server."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "*" and _product_too_long(left, right):
            raise SecurityError(f"the product would be longer than {MAX_OUTPUT:,} items")
        if operator == "**" and _power_too_large(left, right):
            raise SecurityError("the power would be too large a number")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        _spend()
        return super().call(__context, __obj, *args, **kwargs)


def _product_too_long(left, right) -> bool:
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int):
            return len(sequence) * times > MAX_OUTPUT
    return False


def _power_too_large(base, exponent) -> bool:
    if not (isinstance(base, int | float) and isinstance(exponent, int | float)):
        return False
    return abs(exponent) > 1000 or (isinstance(base, int) and abs(base).bit_length() * exponent > 10_000)


def _bounded_range(*args) -> Iterator[int]:
    """Jinja's sandbox caps a range's length; each item taken is also spent from the budget."""
    for item in safe_range(*args):
        _spend()
        yield item


def environment(autoescape: bool) -> SandboxedEnvironment:
    env = BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals["range"] = _bounded_range
    env.filters["when"] = when
    env.filters["number"] = number
    return env


TEXT_ENV = environment(autoescape=False)
HTML_ENV = environment(autoescape=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class TemplateProblem(ValueError):
    """A template that cannot be used, naming the line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def has_default(kind: str, language: str) -> bool:
    return (DEFAULTS / f"{kind}.{language}.j2").is_file()


def template_kind(rule: Rule, language: str) -> str:
    """The template a notice under `rule` is written by: the rule's own, else the shared one it names."""
    if rule.template and not has_default(rule.id, language):
        return rule.template
    return rule.id


def shared_templates() -> list[tuple[str, str]]:
    """(name, language) of every shared template the rules table names and the package ships."""
    names = sorted({r.template for r in shipped_rules() if r.template})
    return [(name, lang) for name in names for lang in ("en", "fr") if has_default(name, lang)]


def content_items(rule: Rule) -> list[dict]:
    """The `items` a template sees: each content item's label (the rules table's English, which words.in_words
    puts in the notice's language) and the facts that say it."""
    return [{"label": item.label, "facts": list(item.satisfied_by)} for item in rule.content]


def shipped_templates() -> list[tuple[str, str]]:
    """(rule id, language) of every template shipped, in the rules table's order."""
    return [(r.id, lang) for r in shipped_rules() for lang in ("en", "fr") if has_default(r.id, lang)]


def default_source(kind: str, language: str) -> str:
    return (DEFAULTS / f"{kind}.{language}.j2").read_text(encoding="utf-8")


def _line_of(error: Exception, template) -> int | None:
    """The template line of a runtime error: the deepest frame of the compiled template, mapped back."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(trace.tb_lineno)
        trace = trace.tb_next
    return line


def check(source: str) -> list[str]:
    """Problems that make a template unusable: syntax, a missing block, an undocumented variable."""
    return list(_problems(source))


@lru_cache(maxsize=64)
def _problems(source: str) -> tuple[str, ...]:
    try:
        parsed = TEXT_ENV.parse(source)
    except TemplateSyntaxError as error:
        return (f"line {error.lineno}: {error.message}",)
    problems = []
    defined = {block.name for block in parsed.find_all(nodes.Block)}
    problems += [
        f"block {name!r}: missing ({{% block {name} %}}...{{% endblock %}})" for name in BLOCKS if name not in defined
    ]
    for name in sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES)):
        line = next((n.lineno for n in parsed.find_all(nodes.Name) if n.name == name and n.ctx == "load"), "?")
        problems.append(f"line {line}: unknown variable {name!r} (known: {', '.join(VARIABLES)})")
    return tuple(problems)


@lru_cache(maxsize=64)
def _compiled(source: str, autoescape: bool):
    """One compilation per source, shared by every notice rendered from it (compiling is the dear part)."""
    return (HTML_ENV if autoescape else TEXT_ENV).from_string(source)


def render(source: str, context: dict) -> Rendered:
    """Subject, text and HTML from one source; the HTML block is autoescaped, the others are not."""
    problems = check(source)
    if problems:
        raise TemplateProblem(problems)
    parts = {name: _render_block(source, name, context) for name in BLOCKS}
    subject = " ".join(parts["subject"].split())
    if not subject:
        raise TemplateProblem(["block 'subject': renders empty"])
    return Rendered(subject[:300], parts["text"] + "\n", clean_html(parts["html"]))


def _render_block(source: str, name: str, context: dict) -> str:
    template = _compiled(source, autoescape=name == "html")
    token = _budget.set(Budget())
    try:
        text = "".join(_bounded_output(template.blocks[name](template.new_context(context)))).strip()
    except OutputTooLong as error:
        raise TemplateProblem([f"block {name!r}: {error}"]) from None
    except (
        TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        MemoryError,
        RecursionError,
    ) as error:
        line = _line_of(error, template) or "?"
        raise TemplateProblem([f"line {line}: {_plain_error(error)}"]) from None
    finally:
        _budget.reset(token)
    return text


class OutputTooLong(SecurityError):
    """Raised between the template's own steps: it names the block, not a line."""


def _bounded_output(pieces: Iterator[str]) -> Iterator[str]:
    written = 0
    for piece in pieces:
        written += len(piece)
        if written > MAX_OUTPUT:
            raise OutputTooLong(f"the output is longer than {MAX_OUTPUT:,} characters")
        yield piece


def _plain_error(error: Exception) -> str:
    return str(error) if isinstance(error, SecurityError) else f"{type(error).__name__}: {error}"


def statement_variables(written: dict[str, str]) -> dict[str, str]:
    """Every fact a person writes, '' where the statement does not say it: a template may name any of them."""
    return {fact.id: written.get(fact.id, "") for fact in shipped_facts().values() if fact.written}


def sample_statement(language: str) -> dict[str, str]:
    return statement_variables({fact.id: f"[{language}] {fact.label}." for fact in shipped_facts().values()})


def sample_context(language: str = "en", follow_up: bool = False) -> dict:
    """Every documented variable with plausible values, in words of `language`, for a first notice on time or
    (follow_up) a late complementary one: a template must render against both to be saved."""
    return in_words(sample_values(language, follow_up))


def sample_values(language: str = "en", follow_up: bool = False) -> dict:
    """The sample's values as the application keeps them (keys, enum values, the rules table's English), before
    `in_words`: a test replaces some (another rule's deadline and items) and puts them in words itself."""
    aware = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    return {
        "organisation": {
            "name": "Example SAS",
            "country": "FR",
            "lead_supervisory_authority": "CNIL",
            "dpo_name": "Dana Protect",
            "dpo_email": "dpo@example.invalid",
        },
        "incident": {
            "id": 1,
            "aware_at": aware,
            "detected_at": aware,
            "occurred_from": None,
            "occurred_to": None,
            "nature": ["confidentiality"],
            "cause": "external_attack",
            "encrypted": False,
            "key_compromised": None,
        },
        "statement": sample_statement(language),
        "impact": {
            "data_subjects": {"customer": 120, "prospect": 8},
            "people": 128,
            "records": 1400,
            "data_categories": ["user.contact.email", "user.name"],
            "sensitivity": 1,
            "activities": ["Customer conversations"],
        },
        "customer": {"key": "sample", "name": "Sample Customer", "country": "FR", "language": "fr"},
        "contacts": [{"role": "dpo", "name": "Claire Sample", "email": "dpo@customer.invalid"}],
        "deadline": {
            "regime": "GDPR",
            "stage": "notification",
            "source": rule("gdpr-art33-2").source,
            "due_at": aware,
            "target_at": None,
            "recipient": "Sample Customer",
            "recipient_kind": "controller",
            "late": follow_up,
        },
        "assessment": {
            "score": "2.75",
            "band": "medium",
            "exemptions": [],
            "decision": {"authority": "required", "data_subjects": "undecided"},
        },
        "followup": {"first_sent_at": aware, "first_reference": "1-1-1", "changes": {"records": [1200, 1400]}}
        if follow_up
        else None,
        "acknowledgement_link": "https://breachdesk.invalid/ack/sample",
        "time_zone": "Europe/Paris",
        "language": language,
        "items": content_items(rule("gdpr-art33-2")),
    }
