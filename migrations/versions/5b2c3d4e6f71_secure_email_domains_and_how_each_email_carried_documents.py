"""secure email domains and how each email carried documents

Reserved for issue 17 (helper A): fill in upgrade() and downgrade().

Revision ID: 5b2c3d4e6f71
Revises: 4a1b2c3d5e60
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2c3d4e6f71'
down_revision = '4a1b2c3d5e60'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
