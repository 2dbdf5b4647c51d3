"""invitations and account requests

Invitations to an account (only the SHA-256 of the link's token is kept; pending_email is
unique, so one pending invitation per address) and practitioners' requests for an account.

Revision ID: b84d2e6f1a93
Revises: a7c3e91d2f40
Create Date: 2026-12-02 13:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b84d2e6f1a93'
down_revision = 'a7c3e91d2f40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('pending_email', sa.String(length=254), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role_names', sa.String(length=100), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('forum_member_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_account_invitation_agency_id_agency')),
    sa.ForeignKeyConstraint(['forum_member_id'], ['forum_member.id'], name=op.f('fk_account_invitation_forum_member_id_forum_member')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_account_invitation_invited_by_id_user')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_account_invitation_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_invitation')),
    sa.UniqueConstraint('pending_email', name=op.f('uq_account_invitation_pending_email')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_invitation_token_hash'))
    )
    with op.batch_alter_table('account_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_invitation_email'), ['email'], unique=False)

    op.create_table('account_invitation_district',
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_account_invitation_district_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['account_invitation.id'], name=op.f('fk_account_invitation_district_invitation_id_account_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('invitation_id', 'district_id', name=op.f('pk_account_invitation_district'))
    )
    op.create_table('account_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('pending_email', sa.String(length=254), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'refused', name='requeststatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_account_request_agency_id_agency')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_account_request_decided_by_id_user')),
    sa.ForeignKeyConstraint(['invitation_id'], ['account_invitation.id'], name=op.f('fk_account_request_invitation_id_account_invitation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_request')),
    sa.UniqueConstraint('pending_email', name=op.f('uq_account_request_pending_email'))
    )
    with op.batch_alter_table('account_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_request_email'), ['email'], unique=False)

    op.create_table('account_request_district',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_account_request_district_district_id_district'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['account_request.id'], name=op.f('fk_account_request_district_request_id_account_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'district_id', name=op.f('pk_account_request_district'))
    )


def downgrade():
    op.drop_table('account_request_district')
    with op.batch_alter_table('account_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_request_email'))
    op.drop_table('account_request')
    op.drop_table('account_invitation_district')
    with op.batch_alter_table('account_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_invitation_email'))
    op.drop_table('account_invitation')
