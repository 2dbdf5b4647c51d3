"""The migration that gave withdrawn and stepped-up cases a retention start, and emails their
cases, fills both in for what was stored before it: its backfills are run here over records
made by the services, with the new columns emptied as they were before the migration."""

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, select, update

from maf.cases import services as case_services
from maf.cases.models import Case, CaseStatus
from maf.circulation import services as circulation
from maf.circulation.models import OutboxMessage, outbox_message_case
from maf.extensions import db
from maf.outcomes import progress
from tests.circulation import test_circulation
from tests.outcomes import test_progress

MIGRATION = Path(__file__).parents[2] / "migrations/versions/3d8a5f9e2c63_retention_complete.py"

meeting, agenda = test_circulation.meeting, test_circulation.agenda
forum, lead_user = test_progress.forum, test_progress.lead_user
first_meeting, second_meeting = test_progress.first_meeting, test_progress.second_meeting
case = test_progress.case


def _run(backfill: str) -> None:
    spec = importlib.util.spec_from_file_location("retention_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with Operations.context(MigrationContext.configure(db.session.connection())):
        getattr(migration, backfill)()
    db.session.expire_all()


def _links() -> set[tuple[int, int]]:
    return {tuple(row) for row in db.session.execute(select(outbox_message_case))}


def test_ended_on_is_backfilled_from_the_day_of_the_change_in_england(
    make_case, coordinator, app_clock
):
    withdrawn, stepped_up, still_open = make_case("Amy"), make_case("Ben"), make_case("Cal")
    # 00:30 in England on 1 July is 23:30 UTC on 30 June: England's date is the one kept.
    app_clock.london(date(2027, 7, 1), 0, 30)
    case_services.withdraw(withdrawn, "Family moved away", coordinator)
    app_clock.london(date(2027, 12, 31), 23, 30)  # GMT: the same date in UTC
    stepped_up.status = CaseStatus.OPEN
    case_services.change_status(stepped_up, CaseStatus.STEPPED_UP, coordinator, "Section 47")
    db.session.commit()
    expected = {withdrawn.id: date(2027, 7, 1), stepped_up.id: date(2027, 12, 31)}
    db.session.execute(update(Case).values(ended_on=None))

    _run("_backfill_ended_on")

    ended = {row.id: row.ended_on for row in db.session.execute(select(Case.id, Case.ended_on))}
    assert ended == {**expected, still_open.id: None}


@pytest.mark.parametrize("with_progress", [False, True])
def test_links_are_backfilled_from_each_emails_kind(request, coordinator, with_progress):
    if with_progress:
        request.getfixturevalue("case")  # a review with its lead, on the second meeting
        second = request.getfixturevalue("second_meeting")
        progress.request_updates(second, coordinator)
    else:
        the_meeting = request.getfixturevalue("meeting")
        first, second_item = request.getfixturevalue("agenda")
        circulation.circulate(the_meeting, coordinator)
        circulation.take_off_forum_agendas(first.case, "Consent withdrawn", coordinator)
        db.session.commit()
    recorded = _links()
    assert recorded, "the services recorded links to compare with"
    db.session.execute(delete(outbox_message_case))

    _run("_backfill_links")

    # Every link the services made is made again; an agenda email may gain a case that was
    # on its meeting's agenda at some time (more than it named, never fewer).
    assert recorded <= _links()
    kinds = {
        message.dedupe_key.split(":")[0]
        for message in db.session.scalars(select(OutboxMessage))
        if message.cases
    }
    assert kinds == ({"progress"} if with_progress else {"agenda", "slot", "slot-cancel"})
