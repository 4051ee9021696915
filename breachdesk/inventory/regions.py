"""Where the people of a volume row live: an ISO 3166-1 country or an ISO 3166-2 subdivision. Pure.

Breach laws follow the people (a US state's law for its residents, LGPD for people in Brazil), so each volume
row may say where its data subjects live. A row that says nothing takes a default: a customer's people live in
the customer's country, the people of our own (controller) activities in the organisation's country. A row may
also say `unknown`: then a person must answer the question for every law that depends on it.
"""

import re
from functools import cache

import pycountry

#: a volume row's region when nobody knows where its people live
UNKNOWN = "unknown"
#: the longest ISO 3166-2 code ("FR-ARA"), and `unknown`
MAX_LENGTH = 16
#: how an ISO 3166-1 alpha-2 code (FR) or an ISO 3166-2 code (US-TX, FR-75, GB-ENG) is written
_WRITTEN_AS_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def parse_region(text: str) -> str:
    """The region a volumes.csv cell or a form states, in its canonical spelling: "" when it states none (the
    default then applies), `unknown`, or an ISO code in upper case. A ValueError says what is wrong: not written as
    a code at all, a country ISO 3166-1 does not know, or a subdivision ISO 3166-2 does not list under its country
    (the two letters before the hyphen must be the country the subdivision belongs to)."""
    value = text.strip()
    if not value:
        return ""
    if value.lower() == UNKNOWN:
        return UNKNOWN
    code = value.upper()
    if _WRITTEN_AS_CODE.fullmatch(code) is None:
        raise ValueError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country (FR) or ISO 3166-2 subdivision (US-TX), nor {UNKNOWN!r}"
        )
    country, _, subdivision = code.partition("-")
    if not _known(country):
        raise ValueError(f"{value!r}: {country!r} is not an ISO 3166-1 alpha-2 country")
    if subdivision and not _known(code):
        raise ValueError(f"{value!r}: {subdivision!r} is not an ISO 3166-2 subdivision of {region_name(country)}")
    return code


def region_of(stated: str, default_country: str) -> str:
    """Where the people of a row live: the region it states, else the default country (the customer's for a
    processor row, the organisation's for a controller row), else unknown."""
    return stated or default_country or UNKNOWN


@cache
def _known(code: str) -> bool:
    if "-" in code:
        return pycountry.subdivisions.get(code=code) is not None
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def within(region: str, area: str) -> bool:
    """Whether people living in `region` live in `area`: a subdivision lies within its country."""
    return region == area or region.startswith(area + "-")


def may_lie_within(region: str, area: str) -> bool:
    """Whether some people recorded only as living in `region` may live in `area`: a country's people may live in
    any of its subdivisions, and nobody knows where people of an unknown region live."""
    return region == UNKNOWN or area.startswith(region + "-")


@cache
def region_name(code: str) -> str:
    """A region in words with its code, as a person reads it: "Texas (US-TX)", "France (FR)"."""
    if code in ("", UNKNOWN):
        return "a region not recorded"
    if "-" in code:
        found = pycountry.subdivisions.get(code=code)
        name = found.name if found else None
    else:
        found = pycountry.countries.get(alpha_2=code)
        name = (getattr(found, "common_name", None) or found.name) if found else None
    return f"{name} ({code})" if name else code


def named_regions(regions: dict[str, dict]) -> dict[str, dict]:
    """Each region's entry with the region in words, for readers outside BreachDesk (the API)."""
    return {code: {"name": region_name(code), **entry} for code, entry in regions.items()}
