"""Each ENISA factor is explained where it is chosen, and the score's arithmetic is said in words."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from breachdesk.assessments import enisa, levels
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident


def test_the_score_is_worked_out_in_words():
    said = levels.arithmetic_in_words(3, Fraction(3, 4), (Fraction(1, 2), Fraction(0), Fraction(0)), False)
    assert said == (
        "DPC 3 × EI 0.75 = 2.25; plus CB 0.5 (confidentiality 0.5, integrity 0, availability 0, no malicious intent)"
        " = 2.75: medium (from 2 to under 3)"
    )
    assert levels.arithmetic_in_words(4, Fraction(1), (Fraction(1, 4),) * 3, True).endswith(
        "= 5.25: very high (4 or more)"
    )


@given(
    st.integers(1, 4),
    st.sampled_from(enisa.EI_VALUES),
    st.tuples(*[st.sampled_from(enisa.CB_LOSS_VALUES)] * 3),
    st.booleans(),
)
def test_the_words_state_the_score_and_band_the_method_computes(dpc, ei, losses, malicious):
    severity = enisa.severity(dpc, float(ei), *(float(loss) for loss in losses), malicious)
    said = levels.arithmetic_in_words(dpc, ei, losses, malicious)
    assert f"= {float(severity.score):g}: {severity.band} (" in said


def test_every_level_the_form_offers_is_explained_and_every_loss_with_an_example():
    assert [level.value for level in levels.DPC_LEVELS] == list(enisa.DPC_CATEGORIES)
    assert [Fraction(level.value) for level in levels.EI_LEVELS] == list(enisa.EI_VALUES)
    for loss, offered in levels.CB_LEVELS.items():
        assert [Fraction(level.value) for level in offered] == list(enisa.CB_LOSS_VALUES), loss
        assert all(level.example for level in offered[1:]), loss
    for level in (*levels.DPC_LEVELS, *levels.EI_LEVELS, *[lv for lvs in levels.CB_LEVELS.values() for lv in lvs]):
        assert level.meaning and level.name


def test_the_assessment_page_spells_out_each_factor_and_the_arithmetic(demo_inventory, login):
    incident = open_incident(
        {"title": "Export leaked", "aware_at": "2026-01-05T10:00:00Z", "systems": ["messaging-db"]}, None
    )
    db.session.commit()
    client = login(Role.PRIVACY)
    form = client.get(f"/incidents/{incident.id}/assessment").text
    for words in ("Data processing context (DPC)", "Ease of identification (EI)", "Circumstances of the breach (CB)"):
        assert f"<legend>{words}</legend>" in form
    assert 'id="ei-levels"' in form and "For example: a full name that many people share." in form
    assert 'value="0.5">limited (0.5): possible, but only with some effort or further information</option>' in form
    saved = client.post(
        f"/incidents/{incident.id}/assessment",
        data={
            "dpc_category": "financial",
            "dpc_adjustment": "0",
            "ei": "0.75",
            "cb_confidentiality": "0.5",
            "cb_integrity": "0",
            "cb_availability": "0",
            "decision_authority": "undecided",
            "decision_data_subjects": "undecided",
        },
    )
    assert saved.status_code == 302
    page = client.get(f"/incidents/{incident.id}/assessment").text
    assert "DPC 3 × EI 0.75 = 2.25; plus CB 0.5" in page and "= 2.75: medium (from 2 to under 3)" in page
