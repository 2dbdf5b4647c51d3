"""corrections of a child's details and the record of each merge

Issue 16 point 4: each corrected detail of a child keeps its old value, who changed it, when
and why (child_details_change); each "same child" merge of the existing-CAF check keeps what
it moved and changed (child_merge), so that a wrong merge can be undone.

Revision ID: 2c7b4e8d1f52
Revises: 1a6f0c2d9e31
Create Date: 2026-12-02 15:45:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "2c7b4e8d1f52"
down_revision = "1a6f0c2d9e31"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "child_details_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_child_details_change_child_id_child")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["user.id"],
            name=op.f("fk_child_details_change_changed_by_id_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_details_change")),
    )
    with op.batch_alter_table("child_details_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_child_details_change_child_id"), ["child_id"], unique=False
        )

    op.create_table(
        "child_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_child_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_child_id", sa.Integer(), nullable=False),
        sa.Column("new_case_id", sa.Integer(), nullable=False),
        sa.Column("existing_case_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["new_case_id"], ["caf_case.id"], name=op.f("fk_child_merge_new_case_id_caf_case")
        ),
        sa.ForeignKeyConstraint(
            ["existing_case_id"],
            ["caf_case.id"],
            name=op.f("fk_child_merge_existing_case_id_caf_case"),
        ),
        sa.ForeignKeyConstraint(
            ["merged_by_id"], ["user.id"], name=op.f("fk_child_merge_merged_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["user.id"], name=op.f("fk_child_merge_undone_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_merge")),
    )
    with op.batch_alter_table("child_merge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_child_merge_kept_child_id"), ["kept_child_id"])
        batch_op.create_index(
            batch_op.f("ix_child_merge_duplicate_child_id"), ["duplicate_child_id"]
        )
        batch_op.create_index(batch_op.f("ix_child_merge_new_case_id"), ["new_case_id"])
        batch_op.create_index(
            batch_op.f("ix_child_merge_existing_case_id"), ["existing_case_id"]
        )


def downgrade():
    with op.batch_alter_table("child_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_child_merge_existing_case_id"))
        batch_op.drop_index(batch_op.f("ix_child_merge_new_case_id"))
        batch_op.drop_index(batch_op.f("ix_child_merge_duplicate_child_id"))
        batch_op.drop_index(batch_op.f("ix_child_merge_kept_child_id"))
    op.drop_table("child_merge")
    with op.batch_alter_table("child_details_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_child_details_change_child_id"))
    op.drop_table("child_details_change")
