"""statements: what recipients are told, per incident and language, written by the privacy team; a notice's
kind becomes the rule that writes it

Notices rendered from the incident's internal title, description and containment until now; from here they
render from the statement (its parts as columns, the other facts the rules need as answers keyed by fact id).

notices.kind and notice_templates.kind name a rule of rules.yaml instead of five letter kinds. An existing
notice takes its own obligation's rule (what it was written for: an "authority" notice to the ICO becomes
uk-gdpr-art33-1, though a GDPR letter wrote it; its frozen text is unchanged). An admin's template versions are
mapped as the kinds were used: controller_initial -> gdpr-art33-2, authority -> gdpr-art33-1, data_subjects ->
gdpr-art34, final_report -> nis2-art23-final-report; controller_followup versions stay under their old kind,
kept as history but no rule's template (one template per rule now writes its follow-ups too). Versions written
for the old variables (incident.title ...) are refused at rendering naming their line, until an admin edits or
drops them. The downgrade maps back by recipient and sequence, and deletes the versions of rules that had no
kind.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TEMPLATE_KINDS = {
    'controller_initial': 'gdpr-art33-2',
    'authority': 'gdpr-art33-1',
    'data_subjects': 'gdpr-art34',
    'final_report': 'nis2-art23-final-report',
}
PARTS = (
    'what_happened', 'consequences', 'measures_taken', 'measures_proposed', 'advice', 'contact_point',
    'delay_reasons', 'newly_known', 'pending_information',
)


def upgrade():
    op.create_table(
        'statements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        *[sa.Column(part, sa.Text(), nullable=False) for part in PARTS],
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_statements_incident_id_incidents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
        sa.UniqueConstraint('incident_id', 'language', name=op.f('uq_statements_incident_id_language')),
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_incident_id'), ['incident_id'], unique=False)
    op.execute(
        "UPDATE notices SET kind = (SELECT obligations.rule_id FROM obligations WHERE obligations.id = notices.obligation_id)"
    )
    for old, rule in TEMPLATE_KINDS.items():
        op.execute(sa.text("UPDATE notice_templates SET kind = :rule WHERE kind = :old").bindparams(rule=rule, old=old))


def downgrade():
    op.execute(
        "UPDATE notices SET kind = (SELECT CASE"
        " WHEN obligations.recipient_kind IN ('controller', 'covered_entity') AND notices.sequence = 1"
        " THEN 'controller_initial'"
        " WHEN obligations.recipient_kind IN ('controller', 'covered_entity') THEN 'controller_followup'"
        " WHEN obligations.recipient_kind = 'data_subjects' THEN 'data_subjects'"
        " WHEN obligations.rule_id LIKE '%final%' THEN 'final_report'"
        " ELSE 'authority' END FROM obligations WHERE obligations.id = notices.obligation_id)"
    )
    op.execute(
        sa.text("DELETE FROM notice_templates WHERE kind NOT IN :kept").bindparams(
            sa.bindparam('kept', [*TEMPLATE_KINDS.values(), 'controller_followup'], expanding=True)
        )
    )
    for old, rule in TEMPLATE_KINDS.items():
        op.execute(sa.text("UPDATE notice_templates SET kind = :old WHERE kind = :rule").bindparams(rule=rule, old=old))
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_incident_id'))
    op.drop_table('statements')
