"""Field rules shared by the import file, the forms and the API. Each returns a problem or None."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from breachdesk.inventory.taxonomy import data_categories, data_subject_categories, is_country

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: the regimes an organisation profile may name: exactly those of the deadline rules table
#: (deadlines/rules.yaml; a test holds the two together, since the inventory sits below the deadlines)
REGIMES = (
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "DORA",
    "Delaware",
    "District of Columbia",
    "Florida",
    "GDPR",
    "Georgia",
    "Guam",
    "HIPAA",
    "Hawaii",
    "Idaho",
    "Illinois",
    "India DPDP",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "LGPD",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "NIS2",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Puerto Rico",
    "Rhode Island",
    "SEC Form 8-K",
    "Singapore PDPA",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "UK GDPR",
    "US Virgin Islands",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
)


def key_problem(value: str) -> str | None:
    if not KEY_PATTERN.match(value or ""):
        return "must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def country_problem(value: str, allow_empty: bool = False) -> str | None:
    if allow_empty and value == "":
        return None
    return None if is_country(value) else f"{value!r} is not an ISO 3166-1 alpha-2 country code"


def time_zone_problem(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not an IANA time zone"
    return None


def email_problem(value: str) -> str | None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        return f"{value!r}: {error}"
    return None


def data_category_problem(value: str) -> str | None:
    return None if value in data_categories() else f"{value!r} is not a data category of the Fides taxonomy"


def subject_category_problem(value: str) -> str | None:
    if value in data_subject_categories():
        return None
    return f"{value!r} is not a data subject category of the Fides taxonomy"


#: names that enable every regime of a group at once in a profile's regimes (rules.yaml `group:`; a test holds them
#: together): naming 54 states one by one invites forgetting one
REGIME_GROUPS = ("US state laws",)


def regime_problem(value: str) -> str | None:
    """A regime of the rules table, or a group of them."""
    if value in REGIMES or value in REGIME_GROUPS:
        return None
    return f"{value!r} is not a regime of the rules table nor a group ({', '.join((*REGIME_GROUPS, *REGIMES))})"


def regime_map_problem(value: dict) -> str | None:
    """A mapping regime -> text (authorities, entity status): one regime, never a group."""
    for regime, text in value.items():
        if regime not in REGIMES:
            return f"{regime!r} is not a regime of the rules table ({', '.join(REGIMES)})"
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            return f"{regime}: expected a name of at most 200 characters"
    return None
