"""indexes for finding a child and listing cases (placeholder reserved for helper A: fill in or delete)

Revision ID: 1a6f0c2d9e31
Revises: c5e2a8f17b3d
Create Date: 2026-12-02 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1a6f0c2d9e31'
down_revision = 'c5e2a8f17b3d'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
