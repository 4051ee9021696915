"""who must be told follows where people live: volume regions, customer statuses, impact per region, triggers

- volumes.region: where a row's data subjects live (ISO 3166-1 / 3166-2, `unknown`, or "" for the default: the
  customer's country, the organisation's for controller rows); one row per (customer, activity, subject, region);
- customers.hipaa_covered_entity, customers.financial_entity: the statuses rules test (false for existing rows);
- impact_customers.regions, impact_snapshots.own_regions: people per region; empty for older snapshots, which
  then leave every region-bound duty flagged for a person until the impact is recomputed;
- obligations.triggered_by: the facts that made a rule apply, in words (none for older duties).

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-08 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None

OWN = {'sqlite_where': sa.text('customer_id IS NULL'), 'postgresql_where': sa.text('customer_id IS NULL')}
# Plain ALTER TABLE, not batch mode: SQLite would rebuild customers and volumes, and dropping the old tables with
# foreign keys on would cascade to every contact, link and volume row (SQLite 3.35+ drops a column in place).


def upgrade():
    op.add_column('customers', sa.Column('hipaa_covered_entity', sa.Boolean(), server_default=sa.false(),
                                         nullable=False))
    op.add_column('customers', sa.Column('financial_entity', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('volumes', sa.Column('region', sa.String(length=16), server_default='', nullable=False))
    op.drop_index('uq_volumes_own_activity_subject', table_name='volumes', **OWN)
    op.drop_index('uq_volumes_customer_activity_subject', table_name='volumes')
    op.create_index('uq_volumes_customer_activity_subject_region', 'volumes',
                    ['customer_id', 'activity_id', 'data_subject_category', 'region'], unique=True)
    op.create_index('uq_volumes_own_activity_subject_region', 'volumes',
                    ['activity_id', 'data_subject_category', 'region'], unique=True, **OWN)
    op.add_column('impact_customers', sa.Column('regions', sa.JSON(), server_default='{}', nullable=False))
    op.add_column('impact_snapshots', sa.Column('own_regions', sa.JSON(), server_default='{}', nullable=False))
    op.add_column('obligations', sa.Column('triggered_by', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    # rows of one (customer, activity, subject) in several regions cannot go back to one row each: the downgrade
    # refuses rather than dropping people
    several = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT 1 FROM volumes GROUP BY customer_id, activity_id, data_subject_category "
        "HAVING COUNT(*) > 1) s"
    )).scalar()
    if several:
        raise RuntimeError(
            f"volume rows of {several} (customer, activity, subject category) are split by region: merge them before "
            "downgrading below 0018"
        )
    op.drop_column('obligations', 'triggered_by')
    op.drop_column('impact_snapshots', 'own_regions')
    op.drop_column('impact_customers', 'regions')
    op.drop_index('uq_volumes_own_activity_subject_region', table_name='volumes', **OWN)
    op.drop_index('uq_volumes_customer_activity_subject_region', table_name='volumes')
    op.create_index('uq_volumes_customer_activity_subject', 'volumes',
                    ['customer_id', 'activity_id', 'data_subject_category'], unique=True)
    op.create_index('uq_volumes_own_activity_subject', 'volumes', ['activity_id', 'data_subject_category'],
                    unique=True, **OWN)
    op.drop_column('volumes', 'region')
    op.drop_column('customers', 'financial_entity')
    op.drop_column('customers', 'hipaa_covered_entity')
