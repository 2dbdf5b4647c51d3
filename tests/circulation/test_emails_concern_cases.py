"""Every email about particular cases records which (outbox_message_case): a child's subject
access export lists the emails that concerned them, and destruction under the retention rule
(seed 002 D3) finds through it every email that named the child."""

from datetime import date

import pytest
from sqlalchemy import select

from maf.agendas import services as agendas
from maf.circulation import outbox, services
from maf.circulation.models import OutboxMessage, outbox_message_case
from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from maf.outcomes import progress
from tests.circulation import test_circulation
from tests.outcomes import test_minutes, test_progress

# The scenes those tests build, used here as they are.
meeting, agenda = test_circulation.meeting, test_circulation.agenda
held = test_minutes.held
forum, lead_user = test_progress.forum, test_progress.lead_user
first_meeting, second_meeting = test_progress.first_meeting, test_progress.second_meeting
case = test_progress.case


def _linked(after_id: int = 0) -> dict[str, set[int]]:
    """Each message's dedupe key, with the ids of the cases it is linked to."""
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)
    )
    return {message.dedupe_key: {c.id for c in message.cases} for message in messages}


def _last_id() -> int:
    return max(db.session.scalars(select(OutboxMessage.id)), default=0)


def test_the_agenda_records_every_case_on_it_and_each_slot_its_own(meeting, agenda, coordinator):
    first, second = agenda
    services.circulate(meeting, coordinator)

    linked = _linked()
    agenda_emails = {key: ids for key, ids in linked.items() if key.startswith("agenda:")}
    assert len(agenda_emails) == 3  # two members and the chair
    assert all(ids == {first.case_id, second.case_id} for ids in agenda_emails.values())
    assert linked[f"slot:{first.id}:seq0:dan@example.org"] == {first.case_id}
    assert linked[f"slot:{second.id}:seq0:eve@example.org"] == {second.case_id}


def test_a_cancelled_slot_records_its_case_and_a_cancelled_meeting_names_none(
    meeting, agenda, coordinator
):
    first, second = agenda
    services.circulate(meeting, coordinator)
    for item in (first, second):
        agendas.remove_from_agenda(item, coordinator)
    before = _last_id()

    services.cancel_meeting(meeting, "The venue flooded", coordinator)

    linked = _linked(before)
    slots = {key: ids for key, ids in linked.items() if key.startswith("slot-cancel:")}
    assert sorted(slots.values(), key=min) == [{first.case_id}, {second.case_id}]
    meeting_emails = [ids for key, ids in linked.items() if key.startswith("meeting-cancel:")]
    assert len(meeting_emails) == 3 and all(ids == set() for ids in meeting_emails)


def test_a_slot_cancelled_by_withdrawn_consent_records_its_case(meeting, agenda, coordinator):
    first, _ = agenda
    services.circulate(meeting, coordinator)
    before = _last_id()

    services.take_off_forum_agendas(first.case, "Consent to share withdrawn", coordinator)
    db.session.commit()

    assert list(_linked(before).values()) == [{first.case_id}]


def test_a_progress_request_records_its_case(case, second_meeting, coordinator):
    before = _last_id()
    progress.request_updates(second_meeting, coordinator)

    assert _linked(before) == {f"progress:{case.id}:{second_meeting.id}": {case.id}}


def test_the_minutes_record_every_case_minuted(held):
    minutes_service.approve(held.minutes, held.chair)
    before = _last_id()

    minutes_service.circulate(held.minutes, held.chair)

    linked = _linked(before)
    assert len(linked) == 3
    assert all(ids == {c.id for c in held.cases} for ids in linked.values())


def test_an_email_about_nobody_in_particular_records_no_case(database):
    message = outbox.enqueue(
        dedupe_key="test:nobody",
        recipient_email="someone@example.org",
        recipient_name="Someone",
        subject="Hello",
        text_body="Hello",
    )
    db.session.commit()
    assert message.cases == []
    assert db.session.scalars(select(outbox_message_case.c.case_id)).all() == []


@pytest.mark.parametrize("repeat", [1, 2])
def test_a_case_named_twice_is_recorded_once(make_case, repeat):
    child_case = make_case("Amy", "Lee", date(2013, 2, 1))
    message = outbox.enqueue(
        dedupe_key="test:twice",
        recipient_email="someone@example.org",
        recipient_name="Someone",
        subject="Hello",
        text_body="Hello",
        concerning=[child_case] * repeat,
    )
    db.session.commit()
    assert [c.id for c in message.cases] == [child_case.id]
