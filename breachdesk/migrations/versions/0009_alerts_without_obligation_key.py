"""alerts: no foreign key to obligations (the tick inserts alerts by joining the obligations)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_alerts_obligation_id_obligations', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_alerts_obligation_id_obligations', 'obligations', ['obligation_id'], ['id'],
                                    ondelete='CASCADE')
