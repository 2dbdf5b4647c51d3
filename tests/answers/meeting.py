"""A meeting whose agenda (one child on it) has been circulated to three members: the answers
tests and the answers browser test start from it."""

from datetime import date

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.circulation import services as circulation
from maf.forums import services as forums
from maf.forums.models import Meeting, MemberRole

MEMBERS = (
    ("Maya Member", "maya.member@example.org", "Charnwood Family Hub"),
    ("Priya Patel", "Priya.Patel@example.org", "Loughborough Police"),
    ("Tom Reid", "tom.reid@example.org", "Charnwood Housing"),
)
# The child on the agenda: no email, page or log line about answers may name them.
CHILD = ("Jessica", "Thompson", date(2012, 5, 17))


def circulated_meeting(coordinator, make_meeting, make_agency, make_ready_case) -> Meeting:
    """6 April 2027's forum meeting, its agenda circulated to the three members and the chair."""
    meeting = make_meeting(date(2027, 4, 6))
    meeting.forum.organiser_email = "charnwood.forum@example.gov.uk"
    for name, email, agency in MEMBERS:
        forums.add_member(
            meeting.forum,
            name=name,
            email=email,
            agency=make_agency(name=agency),
            role=MemberRole.STANDING,
            user=coordinator,
        )
    case = make_ready_case(CHILD[0], CHILD[1], CHILD[2])
    agendas.add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)
    circulation.circulate(meeting, coordinator)
    return meeting
