"""secure email domains and how each email carried documents

Issue 17: the secure email domains an admin keeps (addresses in them may get agendas and
minutes attached; everyone else gets a link), how each email carried its documents, and the
last meeting change each invitation told its person about.

Revision ID: 5b2c3d4e6f71
Revises: 4a1b2c3d5e60
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2c3d4e6f71'
down_revision = '4a1b2c3d5e60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'secure_email_domain',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_secure_email_domain_added_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_secure_email_domain')),
        sa.UniqueConstraint('domain', name=op.f('uq_secure_email_domain_domain')),
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('documents', sa.String(length=20), server_default='', nullable=False))
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_change_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('last_change_id')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('documents')
    op.drop_table('secure_email_domain')
