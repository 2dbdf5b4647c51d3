"""email preferences and action follow-up

Reserved for issue 17 (helper C): fill in upgrade() and downgrade().

Revision ID: 7d4e5f6a8b93
Revises: 6c3d4e5f7a82
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4e5f6a8b93'
down_revision = '6c3d4e5f7a82'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
