"""Where the flow turns back. The domains depend one way (inventory → impact → incidents → assessments →
deadlines → notices → reminders → dashboard); when a lower one must make a higher one act, or shows a page a
higher one adds to, it sends one of these signals instead of importing it. The higher domain connects its
receiver in its own module, which `create_app` imports before it serves or runs anything.

| signal               | sent by                                        | received by                          |
|----------------------|------------------------------------------------|--------------------------------------|
| organisation_changed | inventory: the profile saved or imported       | deadlines.services: re-derive every  |
|                      |                                                | open incident's obligations          |
| incident_changed     | incidents.services: filed, edited, impact      | deadlines.services: re-derive the    |
|                      | recomputed; assessments.services: saved        | incident's obligations               |
| incident_filed       | incidents.services.open_incident, once its     | reminders.news: alert the privacy    |
|                      | impact and duties are derived                  | team, on-call and owner              |
| impact_recomputed    | incidents.services.recompute_impact            | reminders.news: alert when it grew   |
| incident_closing     | incidents.services.change_status, to closed    | deadlines.services: the duties still |
|                      |                                                | pending, in words                    |
| incident_page        | incidents.views.show                           | assessments, deadlines and notices   |
|                      |                                                | views, reminders.news: their part    |
| obligation_page      | deadlines.views.obligation                     | notices.views: the duty's notices    |

Receivers run at once, in the sender's transaction, and an error in one propagates to the sender: the same
as a direct call. A page receiver returns the template variables of its part; an `incident_closing` receiver
the duties still pending, as lines of words.
"""

from typing import Any

from blinker import Namespace, Signal

_signals = Namespace()

#: sender: None
organisation_changed = _signals.signal("organisation-changed")
#: sender: the Incident whose facts (systems, instants, impact, assessment) changed
incident_changed = _signals.signal("incident-changed")
#: sender: the Incident just filed, its impact computed and its duties derived
incident_filed = _signals.signal("incident-filed")
#: sender: the Incident; before: its previous ImpactSnapshot (None the first time), after: the new one
impact_recomputed = _signals.signal("impact-recomputed")
#: sender: the Incident about to be closed; each receiver returns the duties still pending, in words
incident_closing = _signals.signal("incident-closing")
#: sender: the Incident shown
incident_page = _signals.signal("incident-page")
#: sender: the Obligation shown
obligation_page = _signals.signal("obligation-page")


def page_parts(signal: Signal, shown: Any) -> dict[str, Any]:
    """The template variables every receiver of a page signal adds, merged."""
    parts: dict[str, Any] = {}
    for _receiver, part in signal.send(shown):
        parts |= part
    return parts
