"""meeting joining link

Reserved for issue 17 (helper D): fill in upgrade() and downgrade().

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
    pass


def downgrade():
    pass
