"""Form pieces every domain uses: a time zone chooser that reads "Paris" as Europe/Paris, and problems from the
services put next to the fields they name, in words."""

import re

from flask import flash
from wtforms import StringField
from wtforms.validators import ValidationError

from breachdesk.core.zones import find_zone

#: how a service's terse refusal reads to a person next to its field ("aware_at: is in the future")
PLAIN_WORDS = {
    "is in the future": "can't be in the future",
    "is required": "is needed",
    "is before occurred_from": "can't be before the start of the window (occurred from)",
    "required when a recipient is not_required; the breach register shows why nobody was told (Art. 33(5))": (
        "needed when a recipient need not be told: the breach register shows why nobody was told (Art. 33(5))"
    ),
}


class TimeZoneField(StringField):
    """An IANA zone, typed or picked from the list the page offers (`<input list>`); a city that names one zone
    ("Paris") is taken for it. `from_browser`: the page's script fills in the browser's zone on a fresh form, for
    the zone of times a person types now."""

    def __init__(self, label=None, validators=None, from_browser: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.from_browser = from_browser

    def pre_validate(self, form) -> None:
        try:
            self.data = find_zone(self.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


def show_problems(form, problems: list[str]) -> None:
    """Each "field: problem" from a service goes next to that field of the form, in words; the field may be named
    as the import file names it ("customers.time_zone", "contacts[0].email"). What names no field of the form is
    flashed at the top, as before."""
    fields = {field.id: field for field in _every_field(form)}
    for problem in problems:
        name, _, message = problem.partition(": ")
        field = _field_named(fields, name)
        if message and field is not None:
            field.errors = [*field.errors, PLAIN_WORDS.get(message, message)]
        else:
            flash(problem, "error")


def _field_named(fields: dict, name: str):
    """`contacts[0].email` is the field `contacts-0-email`; `customers.` before a name is the file's section."""
    key = re.sub(r"\[(\d+)\]\.", r"-\1-", name)
    return fields.get(key) or fields.get(key.split(".", 1)[-1])


def _every_field(form):
    """The form's fields, and those of its lists of sub-forms (a customer's contacts)."""
    for field in form:
        yield field
        if field.type in ("FieldList", "FormField"):
            yield from _every_field(field)
