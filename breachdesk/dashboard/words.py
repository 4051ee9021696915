"""How the dashboard says things: each time once, on the viewer's clock, with UTC kept for a hover; duties and
recipient kinds in words; months by name. Pure: Babel only, no request, no database."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from breachdesk.core.i18n import zone_name
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS


@dataclass(frozen=True)
class Shown:
    """An instant as the page shows it: `text` on the viewer's clock, `utc` for its title, `iso` for <time>."""

    text: str
    utc: str
    iso: str


def shown(instant: datetime, zone: str, now: datetime) -> Shown:
    """`Sun 25 Oct, 00:00 CEST`, the year added when it is not this year's: a deadline read at a glance, in
    the viewer's zone; the same instant in UTC goes in the title (on hover), not beside it. Day and month names
    are strftime's, in the C locale the process keeps: English, the language of the team's pages."""
    utc = instant.astimezone(UTC)
    local = utc.astimezone(ZoneInfo(zone))
    month = "%b, %H:%M" if local.year == now.astimezone(local.tzinfo).year else "%b %Y, %H:%M"
    text = f"{local:%a} {local.day} {local.strftime(month)} {zone_name(local, 'en')}"
    return Shown(text, f"{utc.day} {utc:%b %Y, %H:%M} UTC", utc.isoformat())


def duty_in_words(regime: str, stage: str, recipient: str) -> str:
    """One duty: "NIS2 early warning to CERT-FR (ANSSI)"; the rules table's regime and stage are words already."""
    return f"{regime} {stage} to {recipient}"


def duty_kind_in_words(regime: str, stage: str, kind: str, undue_delay: bool = False) -> str:
    """A kind of duty, whoever received it: "GDPR notification to the controller", followed by `, "without undue
    delay"` where its time is our internal target rather than a deadline."""
    words = f"{regime} {stage} to the {recipient_kind_in_words(kind)}"
    return f'{words}, "without undue delay"' if undue_delay else words


def recipient_kind_in_words(kind: str) -> str:
    """The rules table's word for a kind of recipient ("supervisory authority"), never its key."""
    return RECIPIENT_KIND_LABELS[kind].english


#: what a duty's e-mails say, as the dashboard shows it (dashboard.queries names the states)
MAIL_STATE_WORDS = {
    "queued": "e-mail waiting to be sent",
    "sent": "e-mail sent",
    "delivered": "e-mail delivered",
    "bounced": "e-mail not delivered",
}


def mail_state_in_words(state: str, count: int | None = None) -> str:
    """ "e-mail delivered", or with a count "3 e-mails delivered"."""
    words = MAIL_STATE_WORDS[state]
    if count is None:
        return words
    return f"{count:,} " + (words if count == 1 else words.replace("e-mail", "e-mails", 1))


def month_name(year: int, month: int) -> str:
    """A month as people write it: "October 2026"."""
    return format_date(datetime(year, month, 1), "MMMM y", locale="en")
