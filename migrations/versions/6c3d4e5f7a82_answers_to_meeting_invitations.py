"""answers to meeting invitations

Each invited member's latest answer to a meeting's invitation (issue 17 point 2).

Revision ID: 6c3d4e5f7a82
Revises: 5b2c3d4e6f71
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c3d4e5f7a82'
down_revision = '5b2c3d4e6f71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column(
            'response',
            sa.Enum('attending', 'not_attending', 'deputy', name='response', native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column('deputy_name', sa.String(length=200), server_default='', nullable=False),
        sa.Column(
            'source',
            sa.Enum('link', 'calendar', 'coordinator', name='answersource', native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('calendar_stamp', sa.DateTime(timezone=True), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_answer_meeting_id_meeting')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_meeting_answer_recorded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_answer')),
        sa.UniqueConstraint('meeting_id', 'email', name=op.f('uq_meeting_answer_meeting_id')),
    )
    with op.batch_alter_table('meeting_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_answer_meeting_id'), ['meeting_id'], unique=False)


def downgrade():
    with op.batch_alter_table('meeting_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_answer_meeting_id'))

    op.drop_table('meeting_answer')
