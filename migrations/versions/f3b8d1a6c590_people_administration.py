"""people administration

The version of what an administrator sets on a person (roles, districts, agency), and who set
it last and when, so two admins editing the same person at once cannot silently overwrite each
other (issue 15). Existing people start at version 1, never changed in the browser.

Revision ID: f3b8d1a6c590
Revises: e6a19f4c8d72
Create Date: 2026-12-02 13:15:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f3b8d1a6c590"
down_revision = "e6a19f4c8d72"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("access_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("access_changed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("access_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_access_changed_by_id_user"),
            "user",
            ["access_changed_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_access_changed_by_id_user"), type_="foreignkey"
        )
        batch_op.drop_column("access_changed_at")
        batch_op.drop_column("access_changed_by_id")
        batch_op.drop_column("access_version")
