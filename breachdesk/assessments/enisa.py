"""ENISA 2013 severity methodology ("Recommendations for a methodology of the assessment of severity of
personal data breaches", ENISA, December 2013). Pure arithmetic; a person confirms the decision.

SE = DPC x EI + CB
- DPC, data processing context: 1 simple, 2 behavioural, 3 financial, 4 sensitive, adjusted by whole steps
  within 1..4 for the context (volume, vulnerable people, public data ...), with the reason recorded;
- EI, ease of identification: 0.25 negligible, 0.5 limited, 0.75 significant, 1 maximum;
- CB, circumstances of the breach: 0, 0.25 or 0.5 for each of loss of confidentiality, integrity and
  availability, plus 0.5 for malicious intent.
Bands: low < 2 <= medium < 3 <= high < 4 <= very high.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from breachdesk.core.i18n import Label

DPC_CATEGORIES = {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}
EI_VALUES = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1))
CB_LOSS_VALUES = (Fraction(0), Fraction(1, 4), Fraction(1, 2))
MALICIOUS = Fraction(1, 2)
BANDS = ((Fraction(2), "low"), (Fraction(3), "medium"), (Fraction(4), "high"))
#: what a notice says for each band (breachdesk/translations holds the other languages' words)
BAND_LABELS = {
    "low": Label("severity band", "low"),
    "medium": Label("severity band", "medium"),
    "high": Label("severity band", "high"),
    "very high": Label("severity band", "very high"),
}
#: what the aid suggests telling, per band; the privacy officer decides
SUGGESTED = {
    "low": (),
    "medium": ("supervisory_authority",),
    "high": ("supervisory_authority", "data_subjects"),
    "very high": ("supervisory_authority", "data_subjects"),
}


class AssessmentError(ValueError):
    """Bad input, naming the field."""


def _exact(value, allowed: tuple[Fraction, ...], field: str) -> Fraction:
    try:
        exact = Fraction(Decimal(str(value)))
    except (ArithmeticError, ValueError, TypeError):
        raise AssessmentError(f"{field}: {value!r} is not a number") from None
    if isinstance(value, bool) or exact not in allowed:
        raise AssessmentError(f"{field}: must be one of {', '.join(str(float(a)) for a in allowed)}")
    return exact


def adjusted_dpc(category: str, adjustment: int = 0, reason: str = "") -> int:
    if not isinstance(category, str) or category not in DPC_CATEGORIES:
        raise AssessmentError(f"dpc_category: one of {', '.join(DPC_CATEGORIES)}")
    if not isinstance(adjustment, int) or isinstance(adjustment, bool):
        raise AssessmentError("dpc_adjustment: a whole number of steps")
    if adjustment and not reason.strip():
        raise AssessmentError("dpc_reason: required when the context score is adjusted")
    score = DPC_CATEGORIES[category] + adjustment
    if not 1 <= score <= 4:
        raise AssessmentError("dpc_adjustment: the adjusted score must stay within 1..4")
    return score


@dataclass(frozen=True)
class Severity:
    score: Fraction
    band: str

    @property
    def suggested(self) -> tuple[str, ...]:
        return SUGGESTED[self.band]

    def as_dict(self) -> dict:
        return {"score": float(self.score), "band": self.band}


def band_of(score: Fraction) -> str:
    for upper, name in BANDS:
        if score < upper:
            return name
    return "very high"


def severity(dpc: int, ei, confidentiality=0, integrity=0, availability=0, malicious: bool = False) -> Severity:
    if not isinstance(dpc, int) or isinstance(dpc, bool) or not 1 <= dpc <= 4:
        raise AssessmentError("dpc: an integer from 1 to 4")
    if not isinstance(malicious, bool):
        raise AssessmentError("cb.malicious: true or false")
    circumstances = sum(
        (
            _exact(confidentiality, CB_LOSS_VALUES, "cb.confidentiality"),
            _exact(integrity, CB_LOSS_VALUES, "cb.integrity"),
            _exact(availability, CB_LOSS_VALUES, "cb.availability"),
        ),
        Fraction(0),
    )
    score = dpc * _exact(ei, EI_VALUES, "ei") + circumstances + (MALICIOUS if malicious else 0)
    return Severity(score, band_of(score))
