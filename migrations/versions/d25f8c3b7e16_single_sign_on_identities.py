"""single sign-on identities

(Placeholder reserved in the migration chain; its owner fills it in.)

Revision ID: d25f8c3b7e16
Revises: b84d2e6f1a93
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd25f8c3b7e16'
down_revision = 'b84d2e6f1a93'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
