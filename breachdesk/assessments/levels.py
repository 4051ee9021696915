"""What each level of the ENISA 2013 factors means, with an example, and a score's arithmetic in words: shown where
the factor is chosen, so DPC, EI and CB are never bare acronyms. The meanings follow ENISA's "Recommendations for a
methodology of the assessment of severity of personal data breaches" (December 2013), put in our own words. Pure."""

from dataclasses import dataclass
from fractions import Fraction

from breachdesk.assessments.enisa import MALICIOUS, band_of


@dataclass(frozen=True)
class Level:
    value: str  # as the form submits it
    name: str
    meaning: str
    example: str


DPC_NAME = "Data processing context (DPC)"
DPC_MEANING = (
    "How much harm the kind of data can do in the context it was processed in. Start from the most critical kind of "
    "data breached, then move it up or down by whole steps for the context."
)
DPC_LEVELS = (
    Level(
        "simple",
        "simple data (1)",
        "identity, contact and biographical details, education, work history",
        "a supermarket's list of customers' names and phone numbers",
    ),
    Level(
        "behavioural",
        "behavioural data (2)",
        "location, traffic data, habits, preferences and other personal details that show how someone lives",
        "a month of a loyalty card's purchases",
    ),
    Level(
        "financial",
        "financial data (3)",
        "income, transactions, balances, bank statements, card details, social welfare",
        "a month of a bank account's balances",
    ),
    Level(
        "sensitive",
        "sensitive data (4)",
        "health, political opinions, religious beliefs, sex life and the other "
        "special categories of GDPR Art. 9, and data whose exposure may endanger someone",
        "the result of a test for a specific disease",
    ),
)
DPC_ADJUSTMENT = (
    "Move up for much data about each person (a year of call history rather than a week), for vulnerable people "
    "(children), or when the organisation itself reveals more (a clinic's customer list says something about "
    "health); move down when the data were already public, out of date or inaccurate, or say less than their kind "
    "suggests."
)

EI_NAME = "Ease of identification (EI)"
EI_MEANING = "How easily someone holding the breached data can tell who the people in it are."
EI_LEVELS = (
    Level(
        "0.25",
        "negligible (0.25)",
        "telling who the person is from these data is extremely hard, possible only in unusual conditions",
        "a common first name on its own, across a whole country",
    ),
    Level(
        "0.5",
        "limited (0.5)",
        "possible, but only with some effort or further information",
        "a full name that many people share",
    ),
    Level(
        "0.75",
        "significant (0.75)",
        "relatively easy: the data point to few people",
        "a full name with the town where the person lives",
    ),
    Level(
        "1",
        "maximum (1)",
        "the data identify the person directly, without any effort",
        "a full name with a date of birth and a home address, or a photo on an identity card",
    ),
)

CB_NAME = "Circumstances of the breach (CB)"
CB_MEANING = (
    "What happened to the data: each loss adds to the score (0, 0.25 or 0.5), and malicious intent adds 0.5. "
    "Circumstances only ever raise the score."
)
CB_LEVELS = {
    "confidentiality": (
        Level("0", "not lost (0)", "no one who should not see the data could have", ""),
        Level(
            "0.25",
            "exposed (0.25)",
            "the data could have been seen by the wrong people, with no sign that anyone did or used them",
            "a box of paper files lost in the post, with no sign anyone opened it",
        ),
        Level(
            "0.5",
            "disclosed (0.5)",
            "the data reached people who should not have them, or anyone at all",
            "a customer file published on a public website",
        ),
    ),
    "integrity": (
        Level("0", "not lost (0)", "the data are as they were", ""),
        Level(
            "0.25",
            "altered, recoverable (0.25)",
            "the data were changed, but the right values can be restored before anyone relies on the wrong ones",
            "records overwritten by a faulty script, restored from backup",
        ),
        Level(
            "0.5",
            "altered and possibly used (0.5)",
            "the wrong data may already have been used against the person",
            "a changed bank account number used to pay someone's salary elsewhere",
        ),
    ),
    "availability": (
        Level("0", "not lost (0)", "the data can be reached when needed", ""),
        Level(
            "0.25",
            "temporarily unavailable (0.25)",
            "the data can be recovered, but the delay may hurt the person",
            "files encrypted by ransomware and restored from backup after two days",
        ),
        Level("0.5", "lost for good (0.5)", "the data cannot be recovered", "the only copy deleted"),
    ),
}
MALICIOUS_MEANING = (
    "Someone caused the breach on purpose: theft, hacking, selling the data or harming the people or the "
    "organisation. A mistake (a misdirected e-mail, a misconfiguration, a lost device) is not malicious."
)


def _number(value: Fraction) -> str:
    return f"{float(value):g}"


def arithmetic_in_words(dpc: int, ei: Fraction, losses: tuple[Fraction, Fraction, Fraction], malicious: bool) -> str:
    """ "DPC 3 × EI 0.75 = 2.25; plus CB 0.5 (confidentiality 0.5, integrity 0, availability 0, no malicious intent)
    = 2.75: medium (from 2 to under 3)"."""
    base = dpc * ei
    circumstances = sum(losses, Fraction(0)) + (MALICIOUS if malicious else 0)
    score = base + circumstances
    parts = ", ".join(
        f"{name} {_number(v)}" for name, v in zip(("confidentiality", "integrity", "availability"), losses, strict=True)
    )
    intent = "malicious intent 0.5" if malicious else "no malicious intent"
    band = band_of(score)
    ranges = {"low": "below 2", "medium": "from 2 to under 3", "high": "from 3 to under 4", "very high": "4 or more"}
    return (
        f"DPC {dpc} × EI {_number(ei)} = {_number(base)}; plus CB {_number(circumstances)} ({parts}, {intent}) "
        f"= {_number(score)}: {band} ({ranges[band]})"
    )
