"""invitations and account requests

(Placeholder reserved in the migration chain; its owner fills it in.)

Revision ID: b84d2e6f1a93
Revises: a7c3e91d2f40
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b84d2e6f1a93'
down_revision = 'a7c3e91d2f40'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
