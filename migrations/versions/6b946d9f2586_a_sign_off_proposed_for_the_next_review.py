"""a sign-off proposed for the next review

The forum can say, when it continues a case, that it expects to close it at the next review;
the builder then puts that review on the next agenda as a sign-off. Existing records proposed
nothing.

Revision ID: 6b946d9f2586
Revises: 16b20c6acf6c
Create Date: 2026-12-02 10:40:27.363350

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b946d9f2586'
down_revision = '16b20c6acf6c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_off_next', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('item_record', schema=None) as batch_op:
        batch_op.drop_column('sign_off_next')
