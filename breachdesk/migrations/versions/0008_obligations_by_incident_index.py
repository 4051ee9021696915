"""obligations: index (incident_id, status, due_at) for range counts per incident

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 08:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index('ix_obligations_incident_status_due_at', ['incident_id', 'status', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_incident_status_due_at')
