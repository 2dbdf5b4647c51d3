"""one-use links erased from emails once sent

An invitation's or a password reset's token is stored only as a hash, but its email carries
the link: such a message's body is now erased once it is sent or given up. Messages queued
before this carried no mark, and are left as they are.

Revision ID: c5e2a8f17b3d
Revises: f3b8d1a6c590
Create Date: 2026-12-02 14:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e2a8f17b3d'
down_revision = 'f3b8d1a6c590'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erase_once_sent', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('erase_once_sent')
