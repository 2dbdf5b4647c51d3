"""meeting joining link

A hybrid meeting carries a link to join online (e.g. a Teams link): `meeting.joining_link`,
empty for every meeting made before (they were in the room only).

Revision ID: 4a1b2c3d5e60
Revises: 3d8a5f9e2c63
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a1b2c3d5e60'
down_revision = '3d8a5f9e2c63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('joining_link', sa.String(length=500), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('joining_link')
