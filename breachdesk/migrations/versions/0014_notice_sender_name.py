"""notices: sender_name, the organisation's name frozen with the notice's words (its e-mail's sender and header)

Notices written before it take the organisation's name of today: the only name they could have been sent under.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

notices = sa.table('notices', sa.column('sender_name', sa.String))
organisation = sa.table('organisation', sa.column('id', sa.Integer), sa.column('name', sa.String))


def upgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_name', sa.String(length=200), server_default='', nullable=False))
    name = sa.select(organisation.c.name).where(organisation.c.id == 1).scalar_subquery()
    op.execute(notices.update().values(sender_name=sa.func.coalesce(name, '')))


def downgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('sender_name')
