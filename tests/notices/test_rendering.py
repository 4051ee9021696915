"""Notice templates in the sandbox: what renders, what is refused, and the line it is refused at."""

import html
import re

import pytest
from babel.numbers import format_decimal

from breachdesk.core.i18n import TRANSLATIONS
from breachdesk.deadlines.rules import rule
from breachdesk.notices import rendering
from breachdesk.notices.rendering import (
    TemplateProblem,
    check,
    default_source,
    render,
    sample_context,
    shipped_templates,
)

GOOD = (
    "{% block subject %}Hello {{ customer.name }}{% endblock %}\n{% block text %}Text{% endblock %}\n"
    "{% block html %}<p>{{ statement.what_happened }}</p>{% endblock %}"
)


@pytest.mark.parametrize("kind, language", shipped_templates())
def test_every_shipped_template_renders_against_the_sample(kind, language):
    rendered = render(default_source(kind, language), sample_context(language, follow_up=True))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.html.strip()
    assert "{{" not in rendered.text + rendered.html


@pytest.mark.parametrize("kind, language", shipped_templates())
def test_a_shipped_text_part_keeps_its_layout(kind, language):
    """Jinja's block trimming neither eats the blank line between sections nor leaves a line of spaces, for
    a first notice on time and a late follow-up, with or without the optional parts."""
    context = sample_context(language, follow_up=True)
    bare = {**context["statement"], "pending_information": "", "newly_known": ""}
    for variant in ({}, {"statement": bare}, {"assessment": None}):
        for each in (context, sample_context(language)):
            text = render(default_source(kind, language), each | variant).text
            assert "\n\n\n" not in text and not re.search(r"^[ \t]+$", text, re.MULTILINE)
            assert not re.search(r"\S\n(\(\w\)|\d\.) ", text), "a numbered section follows its previous line"


def test_the_authority_notice_has_the_article_33_3_points_in_order():
    text = render(default_source("gdpr-art33-1", "en"), sample_context()).text
    points = [
        text.index(p)
        for p in ("(a) Nature", "(b) Data protection officer", "(c) Likely consequences", "(d) Measures taken")
    ]
    assert points == sorted(points)
    assert "Customers: about 120 people" in text and "Dana Protect" in text


@pytest.mark.parametrize("kind, language", shipped_templates())
def test_each_template_carries_every_item_of_its_rule(kind, language):
    """Rendered with every fact present, each checklist item (and the follow-up's, and the reasons for a
    delay where the regime asks) shows its content: every statement fact it needs, and its system facts."""
    context = sample_context(language, follow_up=True)
    read = _read(render(default_source(kind, language), context))
    found = rule(kind)
    items = [*found.content, *(found.followup.content if found.followup else ())]
    shown = {fact for item in items for fact in item.satisfied_by} | ({"delay_reasons"} if found.late else set())
    written = context["statement"]
    expected = {
        "nature": context["incident"]["nature"][0],
        "data_categories": str(context["impact"]["data_categories"][0]),
        "data_subject_categories": str(next(iter(context["impact"]["data_subjects"]))),
        "people": "128",
        "records": "1" + ("\u202f" if language == "fr" else ",") + "400",
        "dpo_contact": "dpo@example.invalid",
        "organisation": "Example SAS",
        "aware_at": "29 ",
        "first_notice": "1-1-1",
        "changes": context["followup"]["changes"][0],
        "reference": "1",
        "stage": context["deadline"]["stage"],
        "cause": context["incident"]["cause"],
    }
    for fact in sorted(shown):
        value = written[fact] if fact in written else expected.get(fact)
        if value is None:  # instants: the sample has none for the occurrence window, shown as "not yet known"
            continue
        assert value in read, (kind, fact)


def _read(rendered) -> str:
    return rendered.subject + rendered.text + html.unescape(re.sub(r"<[^>]+>", " ", rendered.html))


def test_html_is_escaped_and_text_is_not():
    context = sample_context()
    context["statement"]["what_happened"] = "<script>alert(1)</script> & co"
    rendered = render(GOOD.replace("Text", "{{ statement.what_happened }}"), context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert rendered.text.startswith("<script>alert(1)</script> & co")


@pytest.mark.parametrize(
    "attack",
    [
        "{{ incident.__class__ }}",
        "{{ statement.what_happened.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ incident.aware_at.__reduce__() }}",
    ],
)
def test_the_sandbox_refuses_to_reach_python_internals(attack):
    with pytest.raises(TemplateProblem) as refused:
        render(GOOD.replace("Text", attack), sample_context())
    assert refused.value.problems[0].startswith("line 2:")


@pytest.mark.parametrize(
    "reach", ["{{ config }}", "{{ request.environ }}", "{{ g }}", "{{ url_for('x') }}", "{{ session }}"]
)
def test_the_application_is_not_in_reach(reach):
    problems = check(GOOD.replace("Text", reach))
    assert problems and problems[0].startswith("line 2: unknown variable")


def test_problems_name_the_line():
    assert check(GOOD.replace("Text", "{% if %}")) == ["line 2: Expected an expression, got 'end of statement block'"]
    assert check(GOOD.replace("{% block html %}<p>{{ statement.what_happened }}</p>{% endblock %}", "")) == [
        "block 'html': missing ({% block html %}...{% endblock %})"
    ]
    assert check(
        "{% block subject %}{{ customr.name }}{% endblock %}{% block text %}{% endblock %}"
        "{% block html %}{% endblock %}"
    )[0].startswith("line 1: unknown variable 'customr'")
    with pytest.raises(TemplateProblem) as refused:  # a documented variable, a field it does not have
        render(GOOD.replace("Text", "ok\n{{ incident.severity }}"), sample_context())
    assert refused.value.problems == ["line 3: UndefinedError: 'dict object' has no attribute 'severity'"]
    with pytest.raises(TemplateProblem, match="block 'subject': renders empty"):
        render(GOOD.replace("Hello {{ customer.name }}", " "), sample_context())


def in_text(body: str) -> str:
    return (
        "{% block subject %}Subject{% endblock %}\n{% block text %}\n" + body + "\n{% endblock %}\n"
        "{% block html %}<p>x</p>{% endblock %}"
    )


NESTED_MACROS = (
    "\n".join(
        ["{% macro m0() %}x{% endmacro %}"]
        + [f"{{% macro m{n}() %}}{{{{ m{n - 1}() }}}}{{{{ m{n - 1}() }}}}{{% endmacro %}}" for n in range(1, 41)]
    )
    + "\n{{ m40() }}"
)


@pytest.mark.parametrize(
    "body, line, problem",
    [
        ("{{ ('a' * 10**9) | length }}", 3, "the product would be longer than 1,000,000 items"),
        ("{{ [0] * 10**7 }}", 3, "the product would be longer than 1,000,000 items"),
        ("{{ 9 ** 999999999 }}", 3, "the power would be too large a number"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            3,
            "the template does more than 200,000 operations",
        ),
    ],
)
def test_a_template_that_would_exhaust_the_server_is_refused_naming_its_line(body, line, problem, monkeypatch):
    monkeypatch.setattr(rendering, "MAX_SECONDS", 3600)  # the bound under test, not this machine's speed
    with pytest.raises(TemplateProblem) as refused:
        render(in_text(body), sample_context())
    assert refused.value.problems == [f"line {line}: {problem}"]


def test_forty_nested_macros_run_out_of_operations_inside_a_macro_and_say_which_line(monkeypatch):
    monkeypatch.setattr(rendering, "MAX_SECONDS", 3600)
    with pytest.raises(TemplateProblem) as refused:
        render(in_text(NESTED_MACROS), sample_context())  # 2^40 calls unbounded
    [problem] = refused.value.problems
    line, _, words = problem.partition(": ")
    assert words == "the template does more than 200,000 operations" and 3 <= int(line.split()[1]) <= 43


def test_a_template_past_its_time_limit_is_refused(monkeypatch):
    monkeypatch.setattr(rendering, "MAX_SECONDS", 0)  # every check finds the time gone
    with pytest.raises(TemplateProblem) as refused:
        render(in_text("{% for i in range(5000) %}{% endfor %}"), sample_context())
    assert refused.value.problems == ["line 3: the template takes longer than 0 s to render"]


def test_a_template_whose_output_would_be_too_long_is_refused_naming_its_block(monkeypatch):
    monkeypatch.setattr(rendering, "MAX_SECONDS", 3600)
    with pytest.raises(TemplateProblem) as refused:
        render(in_text("{% for i in range(2000) %}{{ 'a' * 999 }}{% endfor %}"), sample_context())
    assert refused.value.problems == ["block 'text': the output is longer than 1,000,000 characters"]


def test_ranges_and_products_of_a_sensible_size_still_work():
    text = render(
        in_text("{% for i in range(3) %}{{ i }}{% endfor %} {{ '-' * 20 }} {{ 2 ** 10 }}"), sample_context()
    ).text
    assert text == "012 -------------------- 1024\n"


@pytest.mark.parametrize("language", sorted(["en", *(p.name for p in TRANSLATIONS.iterdir() if p.is_dir())]))
def test_a_whole_number_is_written_as_babel_writes_it_in_every_language_we_write(language):
    """`|number` groups whole numbers by threes with the language's separator itself (Babel's formatting was most
    of a notice's rendering): a language grouped otherwise must fail here."""
    template = rendering.TEXT_ENV.from_string("{{ value|number }}")
    for value in (0, 7, 999, 1_000, 12_345, 999_999, 1_234_567, 10**12, -4_321):
        assert template.render(value=value, language=language) == format_decimal(value, locale=language)
    assert template.render(value=1234.5, language=language) == format_decimal(1234.5, locale=language)
