"""answers to meeting invitations

Reserved for issue 17 (helper B): fill in upgrade() and downgrade().

Revision ID: 6c3d4e5f7a82
Revises: 5b2c3d4e6f71
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c3d4e5f7a82'
down_revision = '5b2c3d4e6f71'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
