"""local rules with their history, and the editable public pages

(Placeholder reserved in the migration chain; its owner fills it in.)

Revision ID: e6a19f4c8d72
Revises: d25f8c3b7e16
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e6a19f4c8d72'
down_revision = 'd25f8c3b7e16'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
