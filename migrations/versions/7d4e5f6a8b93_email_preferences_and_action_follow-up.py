"""email preferences and action follow-up

Each person's choices for the optional emails (meeting reminders, answer reminders, action
reminders or a daily digest). Only choices made are stored; no row means the default.

Revision ID: 7d4e5f6a8b93
Revises: 6c3d4e5f7a82
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4e5f6a8b93'
down_revision = '6c3d4e5f7a82'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('choice', sa.String(length=20), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user.id'],
            name=op.f('fk_email_preference_user_id_user'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_preference')),
        sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_email_preference_user_id')),
    )


def downgrade():
    op.drop_table('email_preference')
