"""corrections of a child's details and the record of each merge (placeholder reserved for helper C: fill in or delete)

Revision ID: 2c7b4e8d1f52
Revises: 1a6f0c2d9e31
Create Date: 2026-12-02 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2c7b4e8d1f52'
down_revision = '1a6f0c2d9e31'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
