"""volumes: a customer's row needs its link in activity_customers (a composite foreign key)

The import and the volume form always linked them; an activity edit listing its customers could drop
such a link, which it now keeps. Links missing from older databases are added first. The impact query reads the activities reaching a customer from the links alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        INSERT INTO activity_customers (activity_id, customer_id)
        SELECT DISTINCT v.activity_id, v.customer_id FROM volumes v
        WHERE v.customer_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM activity_customers l
                          WHERE l.activity_id = v.activity_id AND l.customer_id = v.customer_id)
    """)
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_volumes_activity_id_activity_customers', 'activity_customers',
                                    ['activity_id', 'customer_id'], ['activity_id', 'customer_id'])


def downgrade():
    # the links added stay: they are true statements about the data
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.drop_constraint('fk_volumes_activity_id_activity_customers', type_='foreignkey')
