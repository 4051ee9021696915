"""ENISA 2013 severity arithmetic and bands, including the band boundaries 2, 3 and 4."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.assessments.enisa import AssessmentError, adjusted_dpc, severity


@pytest.mark.parametrize(
    "dpc, ei, cb, malicious, score, band",
    [
        (1, 0.25, (0, 0, 0), False, Fraction(1, 4), "low"),
        (2, 0.75, (0.25, 0, 0), False, Fraction(7, 4), "low"),
        (2, 1, (0, 0, 0), False, Fraction(2), "medium"),  # 2 is medium, not low
        (3, 0.75, (0.25, 0.25, 0), False, Fraction(11, 4), "medium"),
        (3, 1, (0, 0, 0), False, Fraction(3), "high"),  # 3 is high
        (4, 0.75, (0.5, 0, 0), False, Fraction(7, 2), "high"),
        (3, 1, (0.5, 0, 0), True, Fraction(4), "very high"),  # 4 is very high
        (4, 1, (0.5, 0.5, 0.5), True, Fraction(6), "very high"),
    ],
)
def test_scores_and_bands(dpc, ei, cb, malicious, score, band):
    result = severity(dpc, ei, *cb, malicious=malicious)
    assert (result.score, result.band) == (score, band)


def test_suggestions_follow_the_band_and_a_person_decides():
    assert severity(1, 0.25).suggested == ()
    assert severity(2, 1).suggested == ("supervisory_authority",)
    assert severity(3, 1).suggested == ("supervisory_authority", "data_subjects")


def test_context_adjustment_stays_in_range_and_needs_a_reason():
    assert adjusted_dpc("financial") == 3
    assert adjusted_dpc("simple", 1, "50,000 people, some of them children") == 2
    with pytest.raises(AssessmentError, match="dpc_reason"):
        adjusted_dpc("simple", 1)
    with pytest.raises(AssessmentError, match="dpc_adjustment"):
        adjusted_dpc("sensitive", 1, "more")
    with pytest.raises(AssessmentError, match="dpc_category"):
        adjusted_dpc("secret")


LOSSES = "must be one of 0.0, 0.25, 0.5"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dpc": 5, "ei": 1}, "dpc: an integer from 1 to 4"),
        ({"dpc": True, "ei": 1}, "dpc: an integer from 1 to 4"),  # a bool is an int to Python, not a score
        ({"dpc": 2, "ei": 0.6}, "ei: must be one of 0.25, 0.5, 0.75, 1.0"),
        ({"dpc": 2, "ei": 1, "confidentiality": 0.3}, f"cb.confidentiality: {LOSSES}"),
        ({"dpc": 2, "ei": 1, "integrity": 1}, f"cb.integrity: {LOSSES}"),
        ({"dpc": 2, "ei": 1, "availability": 0.75}, f"cb.availability: {LOSSES}"),
        ({"dpc": 2, "ei": "high"}, "ei: 'high' is not a number"),
        ({"dpc": 2, "ei": 1, "malicious": "yes"}, "cb.malicious: true or false"),
    ],
)
def test_bad_inputs_name_the_field_and_what_it_takes(kwargs, message):
    with pytest.raises(AssessmentError) as refused:
        severity(**kwargs)
    assert str(refused.value) == message


def test_malice_counts_only_when_stated():
    assert severity(2, 1).score == Fraction(2)


def test_a_severity_is_stored_as_its_score_and_band():
    assert severity(3, 0.75, 0.25, 0.25).as_dict() == {"score": 2.75, "band": "medium"}


@pytest.mark.parametrize(
    "adjustment, reason, message",
    [
        (1, "", "dpc_reason: required when the context score is adjusted"),
        (3, "more", "dpc_adjustment: the adjusted score must stay within 1..4"),
        (True, "more", "dpc_adjustment: a whole number of steps"),
        (0.5, "more", "dpc_adjustment: a whole number of steps"),
    ],
)
def test_a_bad_context_adjustment_is_refused_saying_why(adjustment, reason, message):
    with pytest.raises(AssessmentError) as refused:
        adjusted_dpc("behavioural", adjustment, reason)
    assert str(refused.value) == message


def test_an_unknown_context_category_is_refused_listing_the_known_ones():
    with pytest.raises(AssessmentError) as refused:
        adjusted_dpc("secret")
    assert str(refused.value) == "dpc_category: one of simple, behavioural, financial, sensitive"


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.booleans())
def test_every_combination_scores_and_bands_as_the_methodology_states(dpc, ei, c, i, a, malicious):
    """Worked in quarters, in integers: SE = DPC x EI + CB, EI in 1..4 quarters, each loss 0..2 quarters,
    malice 2 quarters; low below 8 quarters (2), medium below 12 (3), high below 16 (4), then very high."""
    quarters = dpc * ei + c + i + a + (2 if malicious else 0)
    expected = "low" if quarters < 8 else "medium" if quarters < 12 else "high" if quarters < 16 else "very high"
    result = severity(dpc, ei / 4, c / 4, i / 4, a / 4, malicious)
    assert (result.score, result.band) == (Fraction(quarters, 4), expected)
