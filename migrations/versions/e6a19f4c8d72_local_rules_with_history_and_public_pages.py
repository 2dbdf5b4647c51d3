"""local rules with their history, and the editable public pages

A rule change and a page version are inserted, never updated: the history is the table. No
rows at first: every rule is the seed's default and every page its default text.

Revision ID: e6a19f4c8d72
Revises: d25f8c3b7e16
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'e6a19f4c8d72'
down_revision = 'd25f8c3b7e16'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rule_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_rule_change_changed_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_change')),
        sa.UniqueConstraint('name', 'sequence', name=op.f('uq_rule_change_name')),
    )
    with op.batch_alter_table('rule_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_change_name'), ['name'], unique=False)

    op.create_table(
        'public_page_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_public_page_version_published_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_public_page_version')),
        sa.UniqueConstraint('slug', 'sequence', name=op.f('uq_public_page_version_slug')),
    )
    with op.batch_alter_table('public_page_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_page_version_slug'), ['slug'], unique=False)


def downgrade():
    with op.batch_alter_table('public_page_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_page_version_slug'))
    op.drop_table('public_page_version')
    with op.batch_alter_table('rule_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_change_name'))
    op.drop_table('rule_change')
