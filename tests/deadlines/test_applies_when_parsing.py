"""Reading when a rule applies: the `elements:` table and a row's `applies_when`, each refused naming the row, its
line (in a table read with its lines) and the field."""

import textwrap

import pytest
import yaml

from breachdesk.deadlines.rules import AppliesWhen, Element, RulesError, parse_rules, row_lines, rule

ELEMENTS = {
    "name": {"label": "name", "fides": ["user.name"]},
    "ssn": {"label": "Social Security number", "fides": ["user.government_id.national_identification_number"]},
}
ROW = {
    "id": "xx-residents",
    "regime": "Examplia",
    "stage": "notification",
    "recipient_kind": "data_subjects",
    "our_roles": ["controller"],
    "anchor": "awareness",
    "period": {"amount": 30, "unit": "calendar_days"},
    "condition": "always",
    "source": "Examplia Code 1: residents told within 30 days",
}
NAME = Element("name", "name", ("user.name",))
SSN = Element("ssn", "Social Security number", ("user.government_id.national_identification_number",))


def parsed(applies_when, roles=("controller",), elements=ELEMENTS) -> AppliesWhen:
    [found] = parse_rules(
        {"elements": elements, "rules": [ROW | {"our_roles": list(roles), "applies_when": applies_when}]}
    )
    return found.applies_when


def refusal(applies_when, roles=("controller",), elements=ELEMENTS) -> str:
    with pytest.raises(RulesError) as refused:
        parsed(applies_when, roles, elements)
    return str(refused.value)


def test_applies_when_becomes_regions_a_threshold_and_combinations_of_elements():
    when = parsed(
        {
            "our_roles": ["controller"],
            "regions": ["us-tx", "FR"],
            "min_residents": 250,
            "data_elements": [["name", "ssn"], ["ssn"]],
        }
    )
    assert when == AppliesWhen(("US-TX", "FR"), 250, None, ((NAME, SSN), (SSN,)))
    assert parsed({"customer_status": "hipaa_covered_entity"}, roles=("processor",)) == AppliesWhen(
        customer_status="hipaa_covered_entity"
    )
    asking = parsed({"data_elements": [["ssn"]], "otherwise_ask": "are  elderly persons\n affected?"})
    assert asking == AppliesWhen(data_elements=((SSN,),), otherwise_ask="are elderly persons affected?")
    [without] = parse_rules({"rules": [ROW]})
    assert without.applies_when is None  # the rule applies whenever its regime and our role do


BAD = [
    (
        "US-TX",
        "rules[xx-residents].applies_when: a mapping of customer_status, data_elements, max_people, min_people, "
        "min_residents, otherwise_ask, our_roles, per_region, regions",
    ),
    ({"min_people": 0}, "rules[xx-residents].applies_when.min_people: a whole number of at least 1"),
    ({"max_people": -1}, "rules[xx-residents].applies_when.max_people: a whole number of at least 0"),
    (
        {"regions": ["US"], "per_region": True},
        "rules[xx-residents].applies_when.per_region: true, with the regions and min_residents counted in each",
    ),
    (
        {"regions": ["US"], "min_residents": 501, "per_region": "yes"},
        "rules[xx-residents].applies_when.per_region: true, with the regions and min_residents counted in each",
    ),
    ({"regions": ["US-TX"], "where": "Texas"}, "rules[xx-residents].applies_when: unknown field(s) ['where']"),
    (
        {"our_roles": ["processor"]},
        "rules[xx-residents].applies_when.our_roles: differs from the row's our_roles, which decide",
    ),
    (
        {"regions": ["Texas"]},
        "rules[xx-residents].applies_when.regions: 'Texas' is not an ISO 3166-1 alpha-2 country "
        "(FR) or ISO 3166-2 subdivision (US-TX), nor 'unknown'",
    ),
    (
        {"regions": ["unknown"]},
        "rules[xx-residents].applies_when.regions: 'unknown' is not an ISO 3166-1 or 3166-2 code",
    ),
    ({"regions": [""]}, "rules[xx-residents].applies_when.regions: '' is not an ISO 3166-1 or 3166-2 code"),
    ({"regions": [7]}, "rules[xx-residents].applies_when.regions: 7 is not an ISO 3166-1 or 3166-2 code"),
    (
        {"regions": ["US-TX"], "min_residents": 0},
        "rules[xx-residents].applies_when.min_residents: a whole number of at least 1",
    ),
    (
        {"regions": ["US-TX"], "min_residents": True},
        "rules[xx-residents].applies_when.min_residents: a whole number of at least 1",
    ),
    (
        {"regions": ["US-TX"], "min_residents": "250"},
        "rules[xx-residents].applies_when.min_residents: a whole number of at least 1",
    ),
    (
        {"min_residents": 250},
        "rules[xx-residents].applies_when.min_residents: counts residents of the regions, which are missing",
    ),
    (
        {"customer_status": "hospital"},
        "rules[xx-residents].applies_when.customer_status: one of hipaa_covered_entity, financial_entity",
    ),
    (
        {"customer_status": "financial_entity"},
        "rules[xx-residents].applies_when.customer_status: only for duties we owe our customers as processor",
    ),
    (
        {"data_elements": [["name", "passport"]]},
        "rules[xx-residents].applies_when.data_elements: unknown element(s) ['passport'] (define them under elements:)",
    ),
    (
        {"data_elements": []},
        "rules[xx-residents].applies_when.data_elements: a list of combinations, each a list of element names",
    ),
    (
        {"data_elements": [[]]},
        "rules[xx-residents].applies_when.data_elements: a list of combinations, each a list of element names",
    ),
    (
        {"data_elements": ["name"]},
        "rules[xx-residents].applies_when.data_elements: a list of combinations, each a list of element names",
    ),
    (
        {"data_elements": "same as us-tx-521-053"},
        "rules[xx-residents].applies_when.data_elements: a list of combinations, each a list of element names",
    ),
    (
        {"regions": ["BR"], "otherwise_ask": "are elderly persons affected?"},
        "rules[xx-residents].applies_when.otherwise_ask: asked when none of the data_elements was affected, which "
        "are missing",
    ),
    (
        {"data_elements": [["ssn"]], "otherwise_ask": "  "},
        "rules[xx-residents].applies_when.otherwise_ask: a non-empty text",
    ),
]


@pytest.mark.parametrize("applies_when, message", BAD, ids=[message for _, message in BAD])
def test_a_bad_applies_when_is_refused_naming_the_row_and_the_field(applies_when, message):
    assert refusal(applies_when) == message


@pytest.mark.parametrize(
    "elements, message",
    [
        ({"name": {"label": "name"}}, "elements[name]: the fields are label and fides"),
        ({"name": ["user.name"]}, "elements[name]: the fields are label and fides"),
        (
            {"name": {"label": "name", "fides": []}},
            "elements[name].fides: a list of at least one Fides data category key",
        ),
        (
            {"name": {"label": "name", "fides": ["user.nam"]}},
            "elements[name].fides: ['user.nam'] not in the Fides taxonomy",
        ),
        ({"name": {"label": " ", "fides": ["user.name"]}}, "elements[name].label: a non-empty text"),
    ],
)
def test_a_bad_element_is_refused_naming_it(elements, message):
    with pytest.raises(RulesError) as refused:
        parse_rules({"elements": elements, "rules": []})
    assert str(refused.value) == message


def test_a_bad_row_of_a_table_read_with_its_lines_names_its_line():
    text = textwrap.dedent("""\
        rules:
          - id: xx-first
            regime: Examplia
            stage: notification
            recipient_kind: regulator
            our_roles: [controller]
            anchor: awareness
            period: {amount: 3, unit: hours}
            condition: always
            source: "Examplia Code 1: three hours"

          - id: xx-second
            regime: Examplia
            stage: notification
            recipient_kind: data_subjects
            our_roles: [controller]
            anchor: awareness
            period: {amount: 3, unit: hours}
            condition: always
            source: "Examplia Code 2: three hours"
            applies_when: {regions: [Texas]}
        """)
    assert row_lines(text) == [2, 12]
    with pytest.raises(RulesError) as refused:
        parse_rules(yaml.safe_load(text), row_lines(text))
    assert str(refused.value).startswith("rules.yaml:12: rules[xx-second].applies_when.regions: 'Texas' is not")


def test_the_shipped_rows_name_the_regions_elements_and_statuses_the_research_gives():
    texas = rule("us-tx-521-053").applies_when
    assert texas.regions == ("US-TX",) and texas.min_residents is None
    assert ("name", "ssn") in [tuple(e.name for e in c) for c in texas.data_elements]
    attorney_general = rule("us-tx-521-053-i").applies_when
    assert attorney_general.min_residents == 250  # "at least 250" Texas residents: 250 is enough
    assert attorney_general.data_elements == texas.data_elements  # the same definition of the same statute
    assert rule("us-tx-521-053-i").unverified  # the research could not read SB 768's enacted text
    assert rule("hipaa-164-410").applies_when == AppliesWhen(customer_status="hipaa_covered_entity")
    assert rule("us-co-6-1-716").applies_when.regions == ("US-CO",)
    assert rule("us-wa-19-255-010").applies_when.regions == ("US-WA",)
    assert rule("gdpr-art33-2").applies_when is None  # the processor's GDPR duty stays owed to every customer
