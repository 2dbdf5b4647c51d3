"""indexes for finding a child and listing cases (maf/search/models.py)

Revision ID: 1a6f0c2d9e31
Revises: c5e2a8f17b3d
Create Date: 2026-12-02 15:45:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "1a6f0c2d9e31"
down_revision = "c5e2a8f17b3d"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_child_date_of_birth", "child", ["date_of_birth"]),
    ("ix_child_postcode", "child", ["postcode"]),
    ("ix_caf_case_district_id_archived_at", "caf_case", ["district_id", "archived_at"]),
    ("ix_forum_chair_id", "forum", ["chair_id"]),
    ("ix_lead_professional_email", "lead_professional", ["email"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
