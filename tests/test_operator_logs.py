"""What an operator reads in the logs at INFO: an import's size, a dispatch round's outcome, a tick's counts;
never a name, an e-mail address or a notice's words."""

import logging
from datetime import UTC, datetime

import pytest

from breachdesk.extensions import db
from breachdesk.notices import services
from breachdesk.notices.mail import FileBackend, OutgoingMail, PermanentFailure
from breachdesk.notices.outbox import dispatch_round
from breachdesk.reminders.services import tick
from tests.incident_fixtures import duty

PERSONAL = ("Acme", "Globex", "Umbrella", "Alice", "acme.example", "globex.example", "dpo@", "Directory export")


@pytest.fixture
def info_logs(app, caplog):
    """At INFO from the app's creation on (the tests' configuration says WARNING)."""
    caplog.set_level(logging.INFO, logger="breachdesk")
    return caplog


def messages(caplog) -> list[str]:
    records = caplog.get_records("setup") + caplog.get_records("call")  # the fixtures import the inventory
    return [record.getMessage() for record in records if record.levelno >= logging.INFO]


def test_import_dispatch_and_tick_say_how_much_happened_and_nothing_personal(info_logs, incident, privacy, tmp_path):
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    services.approve_notice(notice, privacy)  # two contacts
    db.session.commit()
    dispatch_round(FileBackend(tmp_path / "outbox"))
    tick(datetime(2026, 11, 30, tzinfo=UTC))  # every duty of the incident overdue by then: escalations

    logged = messages(info_logs)
    assert (
        "inventory import: 4 customers created, 4 systems created, 4 activities created, 6 volume rows created "
        "(volumes file: 247 bytes)"
    ) in logged
    assert "dispatch round: 2 claimed, 2 sent, 0 to retry, 0 failed, 0 left to another dispatcher" in logged
    assert "reminder tick: 3 alert(s) (3 escalation), 1 mail(s), 1 message(s) queued" in logged
    for words in PERSONAL:
        assert not any(words in m for m in logged), words


class RefusingProvider:
    """A provider whose refusal quotes the address, as SMTP servers do."""

    def send(self, mail: OutgoingMail) -> str:
        raise PermanentFailure(f"550 5.1.1 <{mail.to}>: Recipient address rejected")


def test_a_refused_message_is_logged_by_its_id_not_its_address(info_logs, incident, privacy):
    notice = services.generate_notice(duty(incident, "globex"), privacy)
    services.approve_notice(notice, privacy)
    db.session.commit()
    assert dispatch_round(RefusingProvider()).failed == 1
    logged = messages(info_logs)
    assert any(m.startswith("outbox message ") and m.endswith("failed after 1 attempt(s)") for m in logged), logged
    assert not any("globex.example" in m for m in logged)
