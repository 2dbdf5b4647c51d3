"""retention start for every ended case; emails linked to the cases they concern (placeholder reserved for helper D: fill in or delete)

Revision ID: 3d8a5f9e2c63
Revises: 2c7b4e8d1f52
Create Date: 2026-12-02 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d8a5f9e2c63'
down_revision = '2c7b4e8d1f52'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
