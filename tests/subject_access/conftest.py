"""A child whose case went through a forum meeting (minutes approved and circulated, a progress
update with the questionnaire, consent to share withdrawn, decisions to share without consent,
emails), with other children planted next to them everywhere the service could let them leak:
the same agendas, meetings, minutes, emails, the existing-CAF check and the tier 3/4 register."""

import io
import json
import zipfile
from datetime import date
from types import SimpleNamespace

import pytest
from docx import Document

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.auth.models import Role
from maf.cases import services as case_services
from maf.cases.involvement_import import parse_involvement_csv
from maf.cases.models import ConsentKind, SharingGround
from maf.circulation import services as circulation
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from maf.outcomes import minutes as minutes_service
from maf.outcomes import progress
from maf.outcomes.models import ActionProgressStatus, LeadKind, Outcome, ProgressAnswer
from maf.outcomes.services import (
    ActionDetails,
    ItemDetails,
    LeadDetails,
    complete_meeting,
    save_item_record,
)
from tests.conftest import at_the_meeting

LP_EMAIL = "zoe.brennan@example.org"
REASON = "SAR received 2 December from the child's mother"
# Other children: on the same agendas and minutes, in the same emails, a look-alike the
# existing-CAF check finds, and a register entry the tier 3/4 check finds.
PLANTED = (
    ("Oliver", "Okonkwo", date(2013, 8, 1)),
    ("Amelia", "Featherstone", date(2010, 11, 23)),
    ("Jess", "Thomson", date(2012, 5, 18)),  # looks like Jessica: a possible match
)
REGISTER_ONLY = ("Jessie", "Thompson", date(2012, 6, 17))
REGISTER = (
    "given_name,family_name,date_of_birth,postcode,service,status,contact\n"
    "Jessie,Thompson,2012-06-17,LE11 3TU,CIN,open,Charnwood duty team\n"
    "Kwame,Zielinski,2011-03-09,LE11 3TU,CAMHS,open,Dr Amira Patel\n"
)
REGISTER_ONLY_2 = ("Kwame", "Zielinski", date(2011, 3, 9))


def other_children() -> list[tuple[str, str, date]]:
    return [*PLANTED, REGISTER_ONLY, REGISTER_ONLY_2]


@pytest.fixture
def story(make_forum, make_meeting, make_ready_case, make_agency, make_user, coordinator):
    case_services.import_involvement(
        parse_involvement_csv(io.StringIO(REGISTER), date(2026, 11, 1)), "register.csv", coordinator
    )
    forum = make_forum()
    police = make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    health = make_agency(name="Leicestershire Partnership NHS Trust", type=AgencyType.HEALTH)
    lead_user = make_user(Role.PRACTITIONER, email=LP_EMAIL, name="Zoë Brennan", agency=health)
    add_member(
        forum,
        name="Anna Brown",
        email="anna.brown@example.org",
        agency=police,
        role=MemberRole.STANDING,
        user=coordinator,
    )
    first = make_meeting(date(2027, 1, 12), forum=forum)
    second = make_meeting(date(2027, 4, 6), forum=forum)
    # The look-alike first, so Jessica's existing-CAF check finds it (and judges it different).
    others = [make_ready_case(given, family, born) for given, family, born in PLANTED]
    needs = case_services.need_statements_by_domain()
    jessica = make_ready_case(
        "Jessica",
        "Thompson",
        date(2012, 5, 17),
        needs=[statement for group in needs.values() for statement in group][:2],
    )
    assert jessica.match_candidates, "the look-alike is a possible match"

    items = {
        case.id: add_to_agenda(first, case, ItemKind.NEW_CASE, coordinator)
        for case in [jessica, *others]
    }
    circulation.circulate(first, coordinator)
    save_item_record(
        items[jessica.id],
        ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Low attendance since September; worries about friendships",
            services=[(police, "PCSO visits to the family")],
            actions=[
                ActionDetails("Refer to the school nurse", "Zoë Brennan", date(2027, 2, 1)),
                ActionDetails("Arrange a home visit", "Anna Brown", date(2027, 2, 8), "", police),
            ],
            lead=LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", True, LP_EMAIL, health),
            next_review_on=second.date,
        ),
        coordinator,
    )
    for case in others:
        given, family = case.child.given_name, case.child.family_name
        save_item_record(
            items[case.id],
            ItemDetails(
                outcome=Outcome.CONTINUE,
                discussion=f"{given} {family}'s attendance; {given} sits beside Jessica",
                actions=[
                    ActionDetails(f"Call {given} {family}'s carer", "Anna Brown", date(2027, 2, 3))
                ],
                lead=LeadDetails(LeadKind.PARENT_CARER, f"Sam {family}", True),
                next_review_on=second.date,
            ),
            coordinator,
        )
    at_the_meeting(first)
    minutes = complete_meeting(first, forum.chair)
    # The chair words the minutes differently from the record, for Jessica and for Oliver.
    minutes_service.change_wording(
        minutes, items[jessica.id], "discussion", "Attendance low since September.", forum.chair
    )
    minutes_service.change_wording(
        minutes, items[others[0].id], "discussion", "Oliver Okonkwo: attendance.", forum.chair
    )
    minutes_service.approve(minutes, forum.chair)
    minutes_service.circulate(minutes, forum.chair)

    for case in [jessica, *others]:
        add_to_agenda(second, case, ItemKind.REVIEW, coordinator)
    progress.request_updates(second, coordinator)
    update = progress.update_for(jessica, second)
    actions = {action.description: action for action in progress.reportable_actions(update)}
    nurse, visit = actions["Refer to the school nurse"], actions["Arrange a home visit"]
    progress.submit_update(
        update,
        progress.ProgressDetails(
            actions=[
                progress.ActionReport(nurse, ActionProgressStatus.DONE, "Seen on 3 February"),
                progress.ActionReport(visit, ActionProgressStatus.IN_PROGRESS),
            ],
            answers={
                number: progress.Answer(answer, "Falls out at lunch" if number == 4 else "")
                for number, answer in zip(
                    range(1, 8),
                    [ProgressAnswer.GREAT, ProgressAnswer.GOOD, ProgressAnswer.OK]
                    + [ProgressAnswer.NOT_GOOD, ProgressAnswer.GOOD, ProgressAnswer.OK]
                    + [ProgressAnswer.GREAT],
                    strict=True,
                )
            },
            summary="Attendance is up to 92% and Jessica is sleeping better.",
        ),
        lead_user,
    )
    share = next(c for c in jessica.consents if c.kind == ConsentKind.SHARE)
    case_services.withdraw_consent(
        share, date(2027, 1, 14), "Mum asked for the forum to stop", coordinator
    )
    case_services.record_sharing_without_consent(
        jessica,
        decided_by_name="Priya Shah",
        decided_on=date(2027, 1, 15),
        ground=SharingGround.RISK_OF_SIGNIFICANT_HARM,
        reason="Police asked about a missing-from-home report",
        shared_with="Leicestershire Police",
        user=coordinator,
    )
    db.session.commit()
    return SimpleNamespace(
        case=jessica,
        child=jessica.child,
        others=others,
        forum=forum,
        first=first,
        second=second,
        minutes=minutes,
        coordinator=coordinator,
        update=update,
    )


def unzipped(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def parts(content: bytes) -> tuple[bytes, dict]:
    """The .docx bytes and the parsed JSON of an export zip."""
    files = unzipped(content)
    docx = next(data for name, data in files.items() if name.endswith(".docx"))
    data = next(data for name, data in files.items() if name.endswith(".json"))
    return docx, json.loads(data)


def docx_text(docx: bytes) -> str:
    """Every word of the document: paragraphs, tables, headers and footers, and properties."""
    document = Document(io.BytesIO(docx))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        texts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    properties = document.core_properties
    texts += [properties.title or "", properties.subject or "", properties.author or ""]
    return "\n".join(texts)
