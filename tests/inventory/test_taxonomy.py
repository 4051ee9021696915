"""Sensitivity classes derived from the Fides taxonomy (ENISA 2013 data processing contexts)."""

from hypothesis import given
from hypothesis import strategies as st

from breachdesk.inventory.rules import data_category_problem, subject_category_problem
from breachdesk.inventory.taxonomy import Sensitivity, data_categories, data_subject_categories, sensitivity_of

CATEGORIES = sorted(data_categories())


def test_the_classes_carry_the_enisa_base_scores():
    assert [int(s) for s in Sensitivity] == [1, 2, 3, 4]


def test_well_known_categories_get_the_expected_class():
    assert sensitivity_of("user.contact.email") == Sensitivity.SIMPLE
    assert sensitivity_of("user.location.precise") == Sensitivity.BEHAVIOURAL
    assert sensitivity_of("user.financial.bank_account") == Sensitivity.FINANCIAL
    assert sensitivity_of("user.health_and_medical.genetic") == Sensitivity.SENSITIVE
    assert sensitivity_of("user.demographic.religious_belief") == Sensitivity.SENSITIVE
    assert sensitivity_of("user.demographic.gender") == Sensitivity.SIMPLE  # its sibling is not special
    assert sensitivity_of("user.authorization.biometric") == Sensitivity.SENSITIVE  # the longer prefix wins


@given(st.sampled_from(CATEGORIES), st.text(alphabet="abcdefghij_", min_size=1, max_size=12))
def test_a_subcategory_is_never_less_sensitive_than_its_parent(category, child):
    assert sensitivity_of(f"{category}.{child}") >= sensitivity_of(category)


@given(st.sampled_from(CATEGORIES))
def test_every_taxonomy_category_is_accepted_and_classified(category):
    assert data_category_problem(category) is None
    assert sensitivity_of(category) in Sensitivity


def test_unknown_keys_are_refused_by_name():
    assert "'user.contact.emial'" in data_category_problem("user.contact.emial")
    assert subject_category_problem("customer") is None and "customer" in data_subject_categories()
    assert "'martian'" in subject_category_problem("martian")
