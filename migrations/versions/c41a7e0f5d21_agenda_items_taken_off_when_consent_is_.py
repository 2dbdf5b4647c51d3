"""agenda items taken off when consent to share is withdrawn, and which items were circulated

Revision ID: c41a7e0f5d21
Revises: b8b7a7d20ada
Create Date: 2026-12-02 06:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41a7e0f5d21'
down_revision = 'b8b7a7d20ada'
branch_labels = None
depends_on = None

OLD_STATUS = sa.Enum(
    'scheduled', 'moved', 'removed',
    name='itemstatus', native_enum=False, create_constraint=True, length=20,
)
NEW_STATUS = sa.Enum(
    'scheduled', 'moved', 'removed', 'consent_withdrawn',
    name='itemstatus', native_enum=False, create_constraint=True, length=20,
)


def upgrade():
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status_reason', sa.String(length=300), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('circulated', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        # The existing type tells Alembic which CHECK constraint to replace.
        batch_op.alter_column(
            'status', existing_type=OLD_STATUS, type_=NEW_STATUS, existing_nullable=False
        )
    # Items already on an agenda that went out were seen by the members.
    op.execute(
        "UPDATE agenda_item SET circulated = true WHERE status = 'scheduled' AND meeting_id IN "
        "(SELECT id FROM meeting WHERE status <> 'planned')"
    )


def downgrade():
    # An item taken off for withdrawn consent was taken off: the older schema says "removed".
    op.execute("UPDATE agenda_item SET status = 'removed' WHERE status = 'consent_withdrawn'")
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=NEW_STATUS, type_=OLD_STATUS, existing_nullable=False
        )
        batch_op.drop_column('circulated')
        batch_op.drop_column('status_reason')
