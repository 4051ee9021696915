"""Form pieces every domain uses: a time zone chooser that reads "Paris" as Europe/Paris, and problems from the
services put next to the fields they name, in words."""

from flask import flash
from wtforms import StringField
from wtforms.validators import ValidationError

from breachdesk.core.zones import find_zone

#: how a service's terse refusal reads to a person next to its field ("aware_at: is in the future")
PLAIN_WORDS = {
    "is in the future": "can't be in the future",
    "is required": "is needed",
    "is before occurred_from": "can't be before the start of the window (occurred from)",
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
    """Each "field: problem" from a service goes next to that field of the form, in words; what names no field of
    the form is flashed at the top, as before."""
    for problem in problems:
        name, _, message = problem.partition(": ")
        if message and name in form:
            form[name].errors = [*form[name].errors, PLAIN_WORDS.get(message, message)]
        else:
            flash(problem, "error")
