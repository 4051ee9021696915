"""Migration 0013: a notice's kind becomes the rule that wrote it, and an admin's template versions move to the
rule their old kind was used for; the downgrade maps both back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from breachdesk.extensions import db
from breachdesk.notices.services import generate_notice, save_template
from tests.incident_fixtures import duty


def kinds(table: str) -> dict[int, str]:
    return dict(db.session.execute(text(f"SELECT id, kind FROM {table} ORDER BY id")).all())


def test_old_notices_take_their_obligations_rule_and_templates_the_rule_their_kind_wrote(incident, privacy, app):
    to_globex = generate_notice(duty(incident, "globex"), privacy)
    blocks = "{% block subject %}s{% endblock %}{% block text %}t{% endblock %}{% block html %}<p>h</p>{% endblock %}"
    template = save_template("gdpr-art33-1", "en", blocks, "", privacy)
    notice_id, obligation_id, template_id = to_globex.id, to_globex.obligation_id, template.id
    db.session.commit()
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="0012")
    try:
        assert kinds("notices")[notice_id] == "controller_initial"
        assert kinds("notice_templates")[template_id] == "authority"
        # before 0013, an authority letter to the ICO was written with the GDPR kind "authority"
        db.session.execute(text("UPDATE notices SET kind = 'authority'"))
        db.session.execute(
            text("UPDATE obligations SET rule_id = 'uk-gdpr-art33-1' WHERE id = :id"), {"id": obligation_id}
        )
        db.session.execute(
            text(
                "INSERT INTO notice_templates (kind, language, version, source, note, created_at) "
                "SELECT 'controller_followup', language, 1, source, note, created_at FROM notice_templates"
            )
        )
        db.session.commit()
    finally:
        upgrade(directory=directory)
    assert kinds("notices")[notice_id] == "uk-gdpr-art33-1"  # its obligation's rule, the text unchanged
    assert sorted(kinds("notice_templates").values()) == ["controller_followup", "gdpr-art33-1"]
