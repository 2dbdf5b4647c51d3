"""a child's school or setting typed when not listed

The intake chooses the school from the district's schools; one that is not listed is typed
instead and kept here (issue 14 point 5). Child.school_or_setting reads either.

Revision ID: 3530b6a3e328
Revises: f278d108be01
Create Date: 2026-12-02 09:16:48.284508

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "3530b6a3e328"
down_revision = "f278d108be01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school_name", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_column("school_name")
