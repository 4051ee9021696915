"""an affected controller's activity keys: the processing activities that reach it, kept beside its paths

A notice names the activities; reading them from the paths meant decoding every path for the keys alone. Rows
written before are filled in from their paths.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 02:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

#: rows read and written at a time while filling in the rows written before
BATCH = 2000


def upgrade():
    op.add_column('impact_customers', sa.Column('activity_keys', sa.JSON(), server_default='[]', nullable=False))
    rows = sa.table('impact_customers', sa.column('id', sa.Integer), sa.column('paths', sa.JSON),
                    sa.column('activity_keys', sa.JSON))
    connection, last = op.get_bind(), 0
    while batch := connection.execute(
        sa.select(rows.c.id, rows.c.paths).where(rows.c.id > last).order_by(rows.c.id).limit(BATCH)
    ).all():
        connection.execute(
            rows.update().where(rows.c.id == sa.bindparam('row_id')).values(activity_keys=sa.bindparam('keys')),
            [{'row_id': row.id, 'keys': sorted({p['activity'] for p in row.paths})} for row in batch],
        )
        last = batch[-1].id


def downgrade():
    op.drop_column('impact_customers', 'activity_keys')  # SQLite 3.35+ drops in place: no copy of every path
