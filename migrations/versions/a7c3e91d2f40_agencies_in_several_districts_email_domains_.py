"""agencies in several districts, their email domains, retired and merged agencies

An agency may work in several districts (agency_district; none = the whole authority): each
agency's old district_id becomes one row. Agencies gain their email domains (one agency per
domain), retired_at and merged_into_id; agencies and districts gain row versions so two
admins editing one at once cannot overwrite each other (issue 15).

Revision ID: a7c3e91d2f40
Revises: 6b946d9f2586
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e91d2f40'
down_revision = '6b946d9f2586'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agency_district',
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_district_agency_id_agency'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_agency_district_district_id_district'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('agency_id', 'district_id', name=op.f('pk_agency_district')),
    )
    with op.batch_alter_table('agency_district', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_district_district_id'), ['district_id'], unique=False)

    op.execute(
        "INSERT INTO agency_district (agency_id, district_id) "
        "SELECT id, district_id FROM agency WHERE district_id IS NOT NULL"
    )

    op.create_table(
        'agency_email_domain',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_email_domain_agency_id_agency'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_email_domain')),
        sa.UniqueConstraint('domain', name=op.f('uq_agency_email_domain_domain')),
    )
    with op.batch_alter_table('agency_email_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_email_domain_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agency_merged_into_id_agency'), 'agency', ['merged_into_id'], ['id'])
        batch_op.drop_index(batch_op.f('ix_agency_district_id'))
        batch_op.drop_constraint(batch_op.f('fk_agency_district_id_district'), type_='foreignkey')
        batch_op.drop_column('district_id')

    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_district_updated_by_id_user'), 'user', ['updated_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('district', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_district_updated_by_id_user'), type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('updated_by_id')
        batch_op.drop_column('version')

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_agency_district_id_district'), 'district', ['district_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_agency_district_id'), ['district_id'], unique=False)

    # An agency in several districts keeps the first of them (by id): the old schema had one.
    op.execute(
        "UPDATE agency SET district_id = (SELECT MIN(district_id) FROM agency_district "
        "WHERE agency_district.agency_id = agency.id)"
    )

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_agency_merged_into_id_agency'), type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('updated_by_id')
        batch_op.drop_column('version')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('agency_email_domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_email_domain_agency_id'))
    op.drop_table('agency_email_domain')

    with op.batch_alter_table('agency_district', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_district_district_id'))
    op.drop_table('agency_district')
