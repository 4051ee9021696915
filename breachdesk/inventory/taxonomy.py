"""The Fides privacy taxonomy and the ENISA sensitivity class derived from a data category.

Pure: no Flask, no database. ENISA 2013 ("Recommendations for a methodology of the assessment of
severity of personal data breaches") scores the data processing context from four classes; the
numbers below are its base DPC scores, so an assessment can start from them.
"""

import enum
from functools import cache

import pycountry
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from breachdesk.core.i18n import Label


class Sensitivity(enum.IntEnum):
    SIMPLE = 1  # contact details, names, professional data
    BEHAVIOURAL = 2  # location, traffic, habits, communications
    FINANCIAL = 3  # bank accounts, cards, payments, income
    SENSITIVE = 4  # Art. 9 special categories and criminal records (Art. 10)


#: what a notice says for each class (breachdesk/translations holds the other languages' words)
SENSITIVITY_LABELS = {
    Sensitivity.SIMPLE: Label("data sensitivity", "simple data"),
    Sensitivity.BEHAVIOURAL: Label("data sensitivity", "behavioural data"),
    Sensitivity.FINANCIAL: Label("data sensitivity", "financial data"),
    Sensitivity.SENSITIVE: Label("data sensitivity", "sensitive data"),
}


# Longest matching prefix wins; anything unlisted is simple data.
_CLASS_BY_PREFIX: dict[str, Sensitivity] = {
    "user.behavior": Sensitivity.BEHAVIOURAL,
    "user.location": Sensitivity.BEHAVIOURAL,
    "user.device": Sensitivity.BEHAVIOURAL,
    "user.telemetry": Sensitivity.BEHAVIOURAL,
    "user.content": Sensitivity.BEHAVIOURAL,
    "user.social": Sensitivity.BEHAVIOURAL,
    "user.sensor": Sensitivity.BEHAVIOURAL,
    "user.user_sensor": Sensitivity.BEHAVIOURAL,
    "user.privacy_preferences": Sensitivity.BEHAVIOURAL,
    "user.financial": Sensitivity.FINANCIAL,
    "user.payment": Sensitivity.FINANCIAL,
    "user.health_and_medical": Sensitivity.SENSITIVE,
    "user.biometric": Sensitivity.SENSITIVE,
    "user.authorization.biometric": Sensitivity.SENSITIVE,
    "user.criminal_history": Sensitivity.SENSITIVE,
    "user.demographic.race_ethnicity": Sensitivity.SENSITIVE,
    "user.demographic.religious_belief": Sensitivity.SENSITIVE,
    "user.demographic.sexual_orientation": Sensitivity.SENSITIVE,
    "user.demographic.political_opinion": Sensitivity.SENSITIVE,
}


@cache
def data_categories() -> dict[str, str]:
    """fides key -> display name, for every data category of the default taxonomy."""
    return {c.fides_key: c.name or c.fides_key for c in DEFAULT_TAXONOMY.data_category}


@cache
def data_subject_categories() -> dict[str, str]:
    return {c.fides_key: c.name or c.fides_key for c in DEFAULT_TAXONOMY.data_subject}


def sensitivity_of(data_category: str) -> Sensitivity:
    parts = data_category.split(".")
    for end in range(len(parts), 0, -1):
        found = _CLASS_BY_PREFIX.get(".".join(parts[:end]))
        if found is not None:
            return found
    return Sensitivity.SIMPLE


def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code
