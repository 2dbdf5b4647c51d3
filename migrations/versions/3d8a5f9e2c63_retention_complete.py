"""retention start for every ended case; emails linked to the cases they concern

A withdrawn or stepped-up case had no date to start its retention (seed 002 D3: accessible
one year, archived six more, then destroyed), so it was kept for ever: `caf_case.ended_on`
holds that date now, backfilled from the case's change to that status (England's date of
it; a case with no such change recorded takes the date of its last change, which is later,
so nothing is destroyed early).

`outbox_message_case` records which cases an email concerns. Emails queued before this are
linked by their kind, read from their dedupe key: a presenter's slot or its cancellation and a
progress request to their one case; an agenda or minutes email to every case ever on that
meeting's agenda. That may link an old email to a case taken off before it went (more than it
named, never fewer), so destruction misses none.

Revision ID: 3d8a5f9e2c63
Revises: 2c7b4e8d1f52
Create Date: 2026-12-02 15:45:00.000000

"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d8a5f9e2c63'
down_revision = '2c7b4e8d1f52'
branch_labels = None
depends_on = None

LONDON = ZoneInfo("Europe/London")


def upgrade():
    with op.batch_alter_table('caf_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
    op.create_table(
        'outbox_message_case',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['caf_case.id'], name=op.f('fk_outbox_message_case_case_id_caf_case')),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_outbox_message_case_message_id_outbox_message'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('message_id', 'case_id', name=op.f('pk_outbox_message_case')),
    )
    with op.batch_alter_table('outbox_message_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_case_case_id'), ['case_id'], unique=False)
    _backfill_ended_on()
    _backfill_links()


def _london_date(value):
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON).date()


def _backfill_ended_on():
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT c.id, c.updated_at, "
        "(SELECT max(h.changed_at) FROM case_status_change h "
        " WHERE h.case_id = c.id AND h.to_status = c.status) "
        "FROM caf_case c WHERE c.status IN ('withdrawn', 'stepped_up')"
    )).all()
    for case_id, updated_at, changed_at in rows:
        connection.execute(
            sa.text("UPDATE caf_case SET ended_on = :day WHERE id = :id"),
            {"day": _london_date(changed_at or updated_at), "id": case_id},
        )


def _backfill_links():
    connection = op.get_bind()
    links = set()
    messages = connection.execute(sa.text("SELECT id, dedupe_key FROM outbox_message")).all()
    item_case = dict(connection.execute(sa.text("SELECT id, case_id FROM agenda_item")).all())
    meeting_cases = {}
    for meeting_id, case_id in connection.execute(
        sa.text("SELECT meeting_id, case_id FROM agenda_item")
    ):
        meeting_cases.setdefault(meeting_id, set()).add(case_id)
    for message_id, key in messages:
        kind, _, rest = key.partition(":")
        first = rest.split(":", 1)[0]
        if not first.isdigit():
            continue
        number = int(first)
        if kind in ('slot', 'slot-cancel') and number in item_case:
            links.add((message_id, item_case[number]))
        elif kind == 'progress':
            links.add((message_id, number))
        elif kind in ('agenda', 'minutes'):
            links.update((message_id, case_id) for case_id in meeting_cases.get(number, ()))
    existing_cases = {row[0] for row in connection.execute(sa.text("SELECT id FROM caf_case"))}
    rows = [
        {"message_id": message_id, "case_id": case_id}
        for message_id, case_id in sorted(links)
        if case_id in existing_cases
    ]
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_message_case (message_id, case_id) "
                "VALUES (:message_id, :case_id)"
            ),
            rows,
        )


def downgrade():
    with op.batch_alter_table('outbox_message_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_case_case_id'))
    op.drop_table('outbox_message_case')
    with op.batch_alter_table('caf_case', schema=None) as batch_op:
        batch_op.drop_column('ended_on')
