"""agencies in several districts, their email domains, retired and merged agencies

(Placeholder reserved in the migration chain; its owner fills it in.)

Revision ID: a7c3e91d2f40
Revises: 6b946d9f2586
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e91d2f40'
down_revision = '6b946d9f2586'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
