"""What the EDPB weighs beyond the ENISA score when it decides whom a breach must be told (Guidelines 9/2022 on
personal data breach notification, section IV "Assessing risk and high risk"; Guidelines 01/2021 on examples).

The ENISA band is the starting point. The facts below can only raise it: many people, vulnerable people, special
categories, and data that opens the door to identity theft or fraud. One fact lowers it: a confidentiality breach of
data that is unintelligible (encrypted, the key safe), which the EDPB treats as unlikely to result in a risk. As a
processor we do not decide: the controller does, once we have told it (Art. 33(2)). Pure: no database, no Flask.
"""

from dataclasses import dataclass

from breachdesk.inventory.taxonomy import Sensitivity, sensitivity_of

#: the guidelines name no number; from this many affected people we read "a large number" (our reading)
MANY_PEOPLE = 1000
VULNERABLE_SUBJECTS = {"patient": "patients"}
#: data about children (fideslang: user.childrens)
CHILDREN = "user.childrens"
#: data that enables identity theft or fraud once disclosed (EDPB 9/2022, section IV.B; 01/2021 cases 04, 07, 14,
#: 17, 18): government identifiers, financial and payment data, credentials. A vehicle registration is not one.
FRAUD_PRONE = (
    "user.government_id.national_identification_number",
    "user.government_id.passport_number",
    "user.government_id.drivers_license_number",
    "user.government_id.immigration",
    "user.government_id.birth_certificate",
    "user.financial",
    "user.payment",
    "user.authorization.credentials",
    "user.authorization.password",
)
#: broader categories that may hold such data: counted too (the stricter reading)
FRAUD_PRONE_PARENTS = {"user.government_id", "user.authorization"}


@dataclass(frozen=True)
class Circumstances:
    """The facts of an incident the EDPB weighs, as the impact and the incident's record state them."""

    roles: frozenset[str]
    #: people affected on our controller side, and their categories
    people: int
    data_subjects: frozenset[str]
    data_categories: frozenset[str]
    #: which of confidentiality, integrity and availability were lost
    nature: frozenset[str]
    #: encrypted, and the key not compromised
    unintelligible: bool = False


@dataclass(frozen=True)
class Suggestion:
    #: required | not_required | controller_decides
    authority: str
    data_subjects: str
    reasons: tuple[str, ...]


def _fraud_prone(category: str) -> bool:
    return category in FRAUD_PRONE_PARENTS or any(
        category == key or category.startswith(key + ".") for key in FRAUD_PRONE
    )


def _escalations(facts: Circumstances) -> tuple[list[str], list[str]]:
    """(reasons to tell the authority, reasons to tell the people too) that the facts give on their own."""
    authority, people = [], []
    if facts.people >= MANY_PEOPLE:
        authority.append(f"{facts.people:,} people are affected, a large number (EDPB 9/2022, section IV.B)")
    vulnerable = [VULNERABLE_SUBJECTS[s] for s in sorted(facts.data_subjects) if s in VULNERABLE_SUBJECTS]
    if any(c == CHILDREN or c.startswith(CHILDREN + ".") for c in facts.data_categories):
        vulnerable.append("children")
    if vulnerable:
        people.append(f"vulnerable people are affected ({', '.join(vulnerable)}) (EDPB 9/2022, section IV.B)")
    if any(sensitivity_of(c) == Sensitivity.SENSITIVE for c in facts.data_categories):
        people.append("special categories of data are concerned (Art. 9 or 10 GDPR; EDPB 9/2022, section IV.B)")
    if "confidentiality" in facts.nature and any(_fraud_prone(c) for c in facts.data_categories):
        people.append(
            "the disclosed data can be used for identity theft or fraud (identifiers, financial data or "
            "credentials) (EDPB 01/2021, cases 04, 07 and 17)"
        )
    return authority, people


def suggest(band_suggests: tuple[str, ...], band_reason: str, facts: Circumstances) -> Suggestion:
    """Whom to tell: the ENISA band's suggestion (`band_suggests`), raised by the facts the EDPB weighs."""
    if "controller" not in facts.roles:
        return Suggestion(
            "controller_decides",
            "controller_decides",
            (
                "we act as processor: we tell each affected controller without undue delay (Art. 33(2)); whether "
                "the authority and the people are told is the controller's decision (EDPB 9/2022, Annex B, "
                "example vii)",
            ),
        )
    reasons = [band_reason]
    if "processor" in facts.roles:
        reasons.append("for the data we process for customers, each controller decides for itself (Art. 33(2))")
    if facts.unintelligible and facts.nature == frozenset({"confidentiality"}):
        reasons.append(
            "the data was encrypted and the key is safe: the disclosure is unlikely to result in a risk "
            "(EDPB 9/2022, Annex B, example i; EDPB 01/2021, case 10)"
        )
        return Suggestion("not_required", "not_required", tuple(reasons))
    for_authority, for_people = _escalations(facts)
    authority = "supervisory_authority" in band_suggests or bool(for_authority or for_people)
    subjects = "data_subjects" in band_suggests or bool(for_people)
    return Suggestion(
        "required" if authority else "not_required",
        "required" if subjects else "not_required",
        tuple(reasons + for_authority + for_people),
    )
