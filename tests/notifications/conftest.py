"""A meeting with actions and lead professionals, minuted and ready to circulate."""

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role
from maf.circulation.models import OutboxMessage
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from maf.outcomes import minutes as minutes_service
from maf.outcomes.models import AttendanceStatus, LeadKind, Outcome
from maf.outcomes.services import (
    ActionDetails,
    ItemDetails,
    LeadDetails,
    complete_meeting,
    save_attendance,
    save_item_record,
)
from tests.circulation.conftest import _smtp_controller, smtp_server  # noqa: F401
from tests.conftest import at_the_meeting

# Everything that could name a child or say what the forum decided about one: none of it may
# be in an email's subject or bodies (issue 17).
CHILDREN = ("Jessica", "Thompson", "Oliver", "Reid")
DESCRIPTIONS = (
    "Arrange a home visit",
    "Refer to the school nurse",
    "Speak to Jessica",
    "Book a play therapist",
    "Keep an attendance diary",
    "Check Oliver's bus pass",
)
ANNA = "anna.brown@police.example.org"  # member, present, owns actions and leads Oliver's case
BEN = "ben.carter@nhs.example.org"  # member, apologies, owns nothing
DEV = "dev.patel@charity.example.org"  # not a member, no account, owns one action
ZOE = "zoe.brennan@school.example.org"  # not a member, has an account, leads Jessica's case


def messages(prefix: str = "") -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith(prefix))
            .order_by(OutboxMessage.recipient_email, OutboxMessage.id)
        )
    )


def assert_names_no_child(message: OutboxMessage) -> None:
    sent = " ".join((message.subject, message.text_body, message.html_body))
    assert [word for word in (*CHILDREN, *DESCRIPTIONS) if word in sent] == []


@pytest.fixture
def minuted(make_forum, make_meeting, make_ready_case, make_agency, make_user, coordinator):
    forum = make_forum()
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    police = make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    health = make_agency(name="Leicestershire Partnership NHS Trust", type=AgencyType.HEALTH)
    anna_account = make_user(Role.PRACTITIONER, name="Anna Brown", email=ANNA, agency=police)
    zoe_account = make_user(Role.PRACTITIONER, name="Zoë Brennan", email=ZOE)
    anna, ben = (
        add_member(forum, name=name, email=email, agency=agency, role=role, user=coordinator)
        for name, email, agency, role in (
            ("Anna Brown", ANNA, police, MemberRole.STANDING),
            ("Ben Carter", BEN, health, MemberRole.STANDING),
        )
    )
    jessica = make_ready_case("Jessica", "Thompson", date(2016, 5, 17))
    oliver = make_ready_case("Oliver", "Reid", date(2012, 9, 3))
    items = [
        add_to_agenda(meeting, jessica, ItemKind.NEW_CASE, coordinator),
        add_to_agenda(meeting, oliver, ItemKind.NEW_CASE, coordinator),
    ]
    save_attendance(
        meeting,
        {anna.id: AttendanceStatus.PRESENT, ben.id: AttendanceStatus.APOLOGIES},
        [],
        coordinator,
    )
    save_item_record(
        items[0],
        ItemDetails(
            outcome=Outcome.CONTINUE,
            actions=[
                ActionDetails("Arrange a home visit", "Anna Brown", date(2027, 2, 1), ANNA, police),
                ActionDetails("Speak to Jessica", "Anna Brown", date(2027, 2, 15), ANNA, police),
                ActionDetails("Book a play therapist", "Dev Patel", date(2027, 1, 26), DEV),
                ActionDetails("Keep an attendance diary", "Karen Thompson", date(2027, 3, 1)),
            ],
            lead=LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", True, email=ZOE),
            next_review_on=date(2027, 4, 12),
        ),
        coordinator,
    )
    save_item_record(
        items[1],
        ItemDetails(
            outcome=Outcome.CONTINUE,
            actions=[
                ActionDetails(
                    "Check Oliver's bus pass", "Anna Brown", date(2027, 2, 1), ANNA, police
                ),
            ],
            lead=LeadDetails(LeadKind.PRACTITIONER, "Anna Brown", True, email=ANNA, agency=police),
            next_review_on=date(2027, 4, 12),
        ),
        coordinator,
    )
    at_the_meeting(meeting)
    minutes = complete_meeting(meeting, forum.chair)
    minutes_service.approve(minutes, forum.chair)
    return SimpleNamespace(
        forum=forum,
        meeting=meeting,
        minutes=minutes,
        chair=forum.chair,
        anna=anna_account,
        zoe=zoe_account,
        cases=(jessica, oliver),
        items=items,
    )
