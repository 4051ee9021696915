"""ENISA 2013 severity arithmetic and bands, including the band boundaries 2, 3 and 4."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.assessments.enisa import AssessmentError, adjusted_dpc, severity


@pytest.mark.parametrize("dpc, ei, cb, malicious, score, band", [
    (1, 0.25, (0, 0, 0), False, Fraction(1, 4), "low"),
    (2, 0.75, (0.25, 0, 0), False, Fraction(7, 4), "low"),
    (2, 1, (0, 0, 0), False, Fraction(2), "medium"),          # 2 is medium, not low
    (3, 0.75, (0.25, 0.25, 0), False, Fraction(11, 4), "medium"),
    (3, 1, (0, 0, 0), False, Fraction(3), "high"),            # 3 is high
    (4, 0.75, (0.5, 0, 0), False, Fraction(7, 2), "high"),
    (3, 1, (0.5, 0, 0), True, Fraction(4), "very high"),      # 4 is very high
    (4, 1, (0.5, 0.5, 0.5), True, Fraction(6), "very high"),
])
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


@pytest.mark.parametrize("kwargs, field", [({"dpc": 5, "ei": 1}, "dpc"), ({"dpc": 2, "ei": 0.6}, "ei"),
                                           ({"dpc": 2, "ei": 1, "confidentiality": 0.3}, "cb.confidentiality"),
                                           ({"dpc": 2, "ei": "high"}, "ei"),
                                           ({"dpc": 2, "ei": 1, "malicious": "yes"}, "cb.malicious")])
def test_bad_inputs_name_the_field(kwargs, field):
    with pytest.raises(AssessmentError, match=f"^{field}:"):
        severity(**kwargs)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.booleans())
def test_every_combination_scores_and_bands_as_the_methodology_states(dpc, ei, c, i, a, malicious):
    """Worked in quarters, in integers: SE = DPC x EI + CB, EI in 1..4 quarters, each loss 0..2 quarters,
    malice 2 quarters; low below 8 quarters (2), medium below 12 (3), high below 16 (4), then very high."""
    quarters = dpc * ei + c + i + a + (2 if malicious else 0)
    expected = "low" if quarters < 8 else "medium" if quarters < 12 else "high" if quarters < 16 else "very high"
    result = severity(dpc, ei / 4, c / 4, i / 4, a / 4, malicious)
    assert (result.score, result.band) == (Fraction(quarters, 4), expected)
