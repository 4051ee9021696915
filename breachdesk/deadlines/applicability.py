"""Whether a rule's `applies_when` holds for one recipient's affected people, with the facts that made it apply
in words, or the question a person must answer when a deciding fact is not recorded. Pure.

A duty exists because the data says so: residents of the rule's regions were affected (enough of them), the
customer has the status the rule needs, and what those residents lost includes a combination of data elements
the law names. A fact nobody recorded (people of an unknown region, a country without its state, a count not
recorded, a category broader than the element) never drops a duty: it is created, flagged with the question.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

from breachdesk.deadlines.rules import CUSTOMER_STATUSES, AppliesWhen, Element
from breachdesk.impact.explain import covers
from breachdesk.inventory.regions import UNKNOWN, may_lie_within, region_name, within


@dataclass(frozen=True)
class Residents:
    """The affected people living in one region, and the data categories their records hold."""

    people: int
    data_categories: frozenset[str]
    #: some of them are not counted (no volume row): at least `people`
    counts_unknown: bool = False


#: region -> its affected residents (inventory.regions: an ISO code or `unknown`)
Population = Mapping[str, Residents]


@dataclass(frozen=True)
class Verdict:
    """What the facts say about one rule for one recipient, and the evidence, so that it can be checked again."""

    applies: bool
    #: why it does not apply, in words
    reason: str = ""
    #: the facts that made it apply, in words
    facts: tuple[str, ...] = ()
    #: what a person must answer before relying on it (the duty is flagged)
    questions: tuple[str, ...] = ()
    #: the evidence: the regions whose residents count, how many they are, and (element, category) pairs
    regions: tuple[str, ...] = ()
    residents: int | None = None
    elements: tuple[tuple[str, str], ...] = ()


APPLIES = Verdict(True)


def assess(when: AppliesWhen | None, population: Population, statuses: frozenset[str] | None, name: str) -> Verdict:
    """The verdict on `when` for the people of one recipient (a customer, or our controller-side data; `statuses`
    None and `name` ours)."""
    if when is None:
        return APPLIES
    if when.any_of:
        common = assess(replace(when, any_of=()), population, statuses, name)
        return _any_of(when.any_of, population, statuses, name) if common.applies else common
    facts: list[str] = []
    if when.customer_status:
        if statuses is None or when.customer_status not in statuses:
            return Verdict(False, f"{name} is not {CUSTOMER_STATUSES[when.customer_status]}")
        facts.append(f"{name} is {CUSTOMER_STATUSES[when.customer_status]}")
    counted = _people(when, population)
    if not counted.applies:
        return counted
    facts.extend(counted.facts)
    if when.regions:
        sure = {r: p for r, p in population.items() if any(within(r, area) for area in when.regions)}
        maybe = {r: p for r, p in population.items() if r not in sure and _may_live_in(r, when.regions)}
    else:
        sure, maybe = dict(population), {}
    residents = _residents(when, sure, maybe)
    if not residents.applies:
        return residents
    elements = _elements(when, sure, maybe, asked=bool(residents.questions))
    if not elements.applies:
        return elements
    asked = (when.question,) if when.question else ()
    return Verdict(
        True,
        facts=(*facts, *residents.facts, *elements.facts),
        questions=(*counted.questions, *residents.questions, *elements.questions, *asked),
        regions=residents.regions,
        residents=residents.residents,
        elements=elements.elements,
    )


def _any_of(
    alternatives: tuple[AppliesWhen, ...], population: Population, statuses: frozenset[str] | None, name: str
) -> Verdict:
    """One alternative is enough (the keys beside them hold already): the facts of those the records settle; else
    the first that may apply, flagged with the questions every such alternative shares (each needs a yes) and the
    question of each that may (a yes to any one will do); else why none does. Each question asks what makes its
    alternative hold, so a yes always means "owed"."""
    verdicts = [assess(alternative, population, statuses, name) for alternative in alternatives]
    applying = [verdict for verdict in verdicts if verdict.applies]
    if not applying:
        reasons = dict.fromkeys(verdict.reason for verdict in verdicts)
        return Verdict(False, "none of its alternatives holds: " + "; ".join(reasons))
    settled = [verdict for verdict in applying if not verdict.questions]
    if settled:
        facts = dict.fromkeys(fact for verdict in settled for fact in verdict.facts)
        return replace(settled[0], facts=tuple(facts))
    if len(applying) == 1:
        return applying[0]
    shared = [q for q in applying[0].questions if all(q in verdict.questions for verdict in applying)]
    own = [[q for q in verdict.questions if q not in shared] for verdict in applying]
    if [] in own:  # one holds once the questions they all share are answered
        return applying[own.index([])]
    either = " ".join(f"({n}) {'; '.join(questions)}" for n, questions in enumerate(own, start=1))
    return replace(applying[0], questions=(*shared, f"a yes to any one of these is enough: {either}"))


def _people(when: AppliesWhen, population: Population) -> Verdict:
    """All the affected people, wherever they live, within the rule's bounds (HIPAA counts individuals, not
    residents); a question when people the inventory does not count could cross a bound."""
    low, high = when.min_people, when.max_people
    if low is None and high is None:
        return APPLIES
    total = sum(p.people for p in population.values())
    uncounted = any(p.counts_unknown for p in population.values())
    if high is not None and total > high:
        return Verdict(False, f"{total:,} people affected, more than the {high:,} it covers")
    if low is not None and total < low:
        if not uncounted:
            return Verdict(False, f"{total:,} people affected, fewer than the {low:,} needed")
        question = f"are {low:,} or more people affected? Recorded: {total:,}, and people the inventory does not count"
        return Verdict(True, facts=(f"{total:,} people recorded as affected",), questions=(question,))
    bound = f"{low:,} or more needed" if low is not None else f"at most {high:,}"
    questions = ()
    if high is not None and uncounted:
        questions = (f"are at most {high:,} people affected? Recorded: {total:,}, and people not counted",)
    return Verdict(True, facts=(f"{total:,} people affected ({bound})",), questions=questions)


def by_region(when: AppliesWhen, population: Population) -> dict[str, Population]:
    """For a rule counted per region (HIPAA's media notice per State): the residents of each subdivision of its
    regions, and under UNKNOWN those who may live in one but whose subdivision is not recorded."""
    groups: dict[str, dict[str, Residents]] = {}
    for region, residents in population.items():
        if region not in when.regions and any(within(region, area) for area in when.regions):
            groups.setdefault(region, {})[region] = residents
        elif region in when.regions or _may_live_in(region, when.regions):
            groups.setdefault(UNKNOWN, {})[region] = residents
    return groups


def assess_region(when: AppliesWhen, region: str, population: Population, name: str) -> Verdict:
    """The verdict for one group of `by_region`: the subdivision's residents, or the people not placed in one,
    who make a question when they could be enough in some subdivision."""
    if region != UNKNOWN:
        return assess(replace(when, regions=(region,), per_region=False), population, None, name)
    people = sum(p.people for p in population.values())
    if people < (when.min_residents or 1) and not any(p.counts_unknown for p in population.values()):
        return Verdict(False, f"{people:,} people not placed in a subdivision of {_areas(when)}, too few anywhere")
    verdict = assess(replace(when, regions=(), min_residents=None, per_region=False), population, None, name)
    question = (
        f"do {when.min_residents:,} or more residents of one subdivision of {_areas(when)} live among the "
        f"{_how_many_of(population)} people recorded without their subdivision?"
    )
    if not verdict.applies:
        return verdict
    return replace(verdict, questions=(question, *verdict.questions), residents=people)


def _how_many_of(population: Population) -> str:
    people = sum(p.people for p in population.values())
    return f"{people:,} or more" if any(p.counts_unknown for p in population.values()) else f"{people:,}"


def _may_live_in(region: str, areas: tuple[str, ...]) -> bool:
    return any(may_lie_within(region, area) for area in areas)


def _areas(when: AppliesWhen) -> str:
    return " or ".join(region_name(area) for area in when.regions)


def _residents(when: AppliesWhen, sure: dict[str, Residents], maybe: dict[str, Residents]) -> Verdict:
    """Enough residents of the rule's regions affected, or a question when the records cannot say."""
    if not when.regions:
        return APPLIES
    needed = when.min_residents or 1
    known = sum(p.people for p in sure.values())
    regions = tuple(sorted(sure))
    if known >= needed:
        words = f"{known:,} residents of {_areas(when)} affected"
        if when.min_residents:
            words += f" ({needed:,} or more needed)"
        return Verdict(True, facts=(words,), regions=regions, residents=known)
    uncounted = [r for r, p in (sure | maybe).items() if p.counts_unknown]
    possible = known + sum(p.people for p in maybe.values())
    if possible < needed and not uncounted:
        return Verdict(False, _too_few(when, needed, known, possible))
    return Verdict(
        True,
        facts=(f"{known:,} residents of {_areas(when)} recorded as affected",),
        questions=(_residents_question(when, needed, known, maybe, uncounted),),
        regions=regions,
        residents=known,
    )


def _too_few(when: AppliesWhen, needed: int, known: int, possible: int) -> str:
    if not possible:
        return f"no affected residents of {_areas(when)}"
    words = f"{known:,} residents of {_areas(when)} affected"
    if possible > known:
        words += f" (at most {possible:,} with the people not placed in a region)"
    return f"{words}, fewer than the {needed:,} needed"


def _residents_question(
    when: AppliesWhen, needed: int, known: int, maybe: dict[str, Residents], uncounted: list[str]
) -> str:
    parts = [f"{_how_many(p)} people {_living_in(r)}" for r, p in sorted(maybe.items())]
    parts += [f"people of {region_name(r)} not counted by the inventory" for r in sorted(uncounted) if r not in maybe]
    target = f"{needed:,} or more residents of {_areas(when)}" if when.min_residents else f"residents of {_areas(when)}"
    return f"are there {target} among the affected people? Recorded: {known:,}; uncertain: {', '.join(parts)}"


def _living_in(region: str) -> str:
    return "whose region is not recorded" if region == UNKNOWN else f"recorded as living in {region_name(region)}"


def _how_many(residents: Residents) -> str:
    if not residents.counts_unknown:
        return f"{residents.people:,}"
    return f"{residents.people:,} or more" if residents.people else "an uncounted number of"


def _elements(when: AppliesWhen, sure: dict[str, Residents], maybe: dict[str, Residents], asked: bool) -> Verdict:
    """A combination of the data elements the law names among what the residents lost; or among what people not
    placed in a region lost, a question unless where they live is `asked` already; or, when only a broader category
    may hold an element, a question."""
    if not when.data_elements:
        return APPLIES
    held = set().union(*(p.data_categories for p in sure.values()))
    if found := _combination(when, held, _held):
        combination, categories = found
        pairs = tuple((e.name, c) for e, c in zip(combination, categories, strict=True))
        return Verdict(True, facts=(_data_words(combination, categories),), elements=pairs)
    possible = held.union(*(p.data_categories for p in maybe.values()))
    if found := _combination(when, possible, _held):
        combination, categories = found
        words = f"{_data_words(combination, categories)}, lost by people not placed in a region"
        question = f"do the people not placed in a region live in {_areas(when)}?"
        return Verdict(True, facts=(words,), questions=() if asked else (question,))
    if found := _combination(when, possible, _maybe_held):
        return Verdict(True, questions=(_elements_question(when, *found),))
    whose = f"residents of {_areas(when)}" if when.regions else "the affected people"
    return Verdict(False, f"the data of {whose} holds none of the combinations of data elements it names")


def _combination(when: AppliesWhen, categories: set[str], holds) -> tuple[tuple[Element, ...], list[str]] | None:
    """The first combination of the rule whose every element `holds` finds among the categories, with them."""
    for combination in when.data_elements:
        found = [holds(element, categories) for element in combination]
        if all(found):
            return combination, found
    return None


def _held(element: Element, categories: set[str]) -> str | None:
    """The first category (in key order) that holds the element: one of its keys, or narrower."""
    return next((c for c in sorted(categories) if any(covers(key, c) for key in element.keys)), None)


def _maybe_held(element: Element, categories: set[str]) -> str | None:
    """A category that holds the element, or a broader one that may (`user.government_id` for a passport)."""
    return _held(element, categories) or next(
        (c for c in sorted(categories) if any(covers(c, key) for key in element.keys)), None
    )


def _data_words(combination: tuple[Element, ...], categories: list[str]) -> str:
    return "data: " + " with ".join(f"{e.label} ({c})" for e, c in zip(combination, categories, strict=True))


def _elements_question(when: AppliesWhen, combination: tuple[Element, ...], candidates: list[str]) -> str:
    whose = f"residents of {_areas(when)}" if when.regions else "the affected people"
    return (
        f"does the data lost by {whose} include {' with '.join(e.label for e in combination)}? "
        f"It may: {', '.join(sorted(set(candidates)))}"
    )
