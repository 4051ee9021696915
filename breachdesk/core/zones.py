"""Time zones as people name them: the IANA zones a chooser offers, and "Paris" read as Europe/Paris.

Pure: the standard library only, so a test calls it with plain strings."""

from functools import cache
from zoneinfo import available_timezones

#: what a chooser lists; "localtime" and the like name the server's zone, not a place
_NOT_PLACES = frozenset({"localtime", "Factory"})
#: the areas whose zones are named after a city ("Europe/Paris"); the others are older aliases ("US/Eastern",
#: "Singapore") that would make a city match twice
_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone the system knows, sorted: the chooser's list."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


@cache
def _by_city() -> dict[str, tuple[str, ...]]:
    """Each zone's last part ("Paris", "New York") in lower case, with the zones that end in it."""
    cities: dict[str, list[str]] = {}
    for name in zone_names():
        if "/" not in name or name.split("/", 1)[0] not in _AREAS:
            continue
        cities.setdefault(_folded(name.rsplit("/", 1)[-1]), []).append(name)
    return {city: tuple(names) for city, names in cities.items()}


def _folded(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def find_zone(text: str) -> str:
    """The IANA zone a person means: its exact name in any case ("europe/paris"), or its city when only one zone
    has it ("Paris", "new york"). A name that matches none, or several, is refused saying which (ValueError)."""
    wanted = _folded(text)
    if not wanted:
        raise ValueError("choose a time zone")
    exact = {_folded(name): name for name in zone_names()}
    if wanted in exact:
        return exact[wanted]
    found = _by_city().get(wanted, ())
    if len(found) == 1:
        return found[0]
    if found:
        raise ValueError(f"“{text.strip()}” could be {' or '.join(found)}: choose one")
    raise ValueError(f"no time zone is called “{text.strip()}”: choose one from the list, such as Europe/Paris")
