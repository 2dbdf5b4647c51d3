"""people administration

(Placeholder reserved in the migration chain; its owner fills it in.)

Revision ID: f3b8d1a6c590
Revises: e6a19f4c8d72
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d1a6c590'
down_revision = 'e6a19f4c8d72'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
