"""alerts when something happens: the reader's language, and the incident link a chat message carries

- users.language: the language a user reads alerts in (en, fr); NULL when not known, and alerts are in English;
- alert_mails.link: the signed link to the incident an alert points to ("" for reminders and digests), which a
  chat message shows as its button.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 16:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column('alert_mails', sa.Column('link', sa.String(length=500), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('alert_mails') as batch_op:
        batch_op.drop_column('link')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('language')
