"""meeting joining link

A hybrid meeting carries a link to join online (e.g. a Teams link): `meeting.joining_link`,
empty for every meeting made before (they were in the room only). A change of it is kept in
the meeting's history like any other, so `meeting_change.before`/`after` take 500 characters,
not 300, and a link is never cut short there.

Revision ID: 4a1b2c3d5e60
Revises: 3d8a5f9e2c63
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a1b2c3d5e60'
down_revision = '3d8a5f9e2c63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('joining_link', sa.String(length=500), server_default='', nullable=False)
        )
    with op.batch_alter_table('meeting_change', schema=None) as batch_op:
        for column in ('before', 'after'):
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=300),
                type_=sa.String(length=500),
                existing_nullable=False,
            )


def downgrade():
    # A link longer than 300 characters is cut to fit, as the history kept it before.
    meeting_change = sa.table('meeting_change', sa.column('before'), sa.column('after'))
    for column in ('before', 'after'):
        op.execute(
            meeting_change.update()
            .where(sa.func.length(meeting_change.c[column]) > 300)
            .values({column: sa.func.substr(meeting_change.c[column], 1, 300)})
        )
    with op.batch_alter_table('meeting_change', schema=None) as batch_op:
        for column in ('before', 'after'):
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=500),
                type_=sa.String(length=300),
                existing_nullable=False,
            )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('joining_link')
