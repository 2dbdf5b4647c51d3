"""breaks kept per meeting, copied from the forum

Until now a meeting read its breaks from its forum, so changing the forum's breaks retimed
every meeting, even one whose agenda (with slot times) had gone out. Each meeting now keeps
its own copy; every existing meeting starts with the breaks it was being timed with.

Revision ID: 16b20c6acf6c
Revises: 11fc302982f5
Create Date: 2026-12-02 09:18:25.818175

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16b20c6acf6c'
down_revision = '11fc302982f5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting_break',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.Time(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['meeting_id'],
            ['meeting.id'],
            name=op.f('fk_meeting_break_meeting_id_meeting'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_break')),
    )
    with op.batch_alter_table('meeting_break', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_meeting_break_meeting_id'), ['meeting_id'], unique=False
        )
    # Every meeting, past ones included, keeps the breaks its agenda was timed with.
    op.execute(
        "INSERT INTO meeting_break (meeting_id, starts_at, minutes) "
        "SELECT meeting.id, forum_break.starts_at, forum_break.minutes "
        "FROM meeting JOIN forum_break ON forum_break.forum_id = meeting.forum_id"
    )


def downgrade():
    # The older schema reads breaks from the forum again; the meetings' own copies go.
    with op.batch_alter_table('meeting_break', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_break_meeting_id'))
    op.drop_table('meeting_break')
