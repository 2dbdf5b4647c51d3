"""The agenda tells the truth about each item, on the page and in the Word agenda alike
(issue 14 point 6; seed 004: the agenda lists each child's school or setting and who presents
the case, so that agencies can check their records before the meeting).

- "School or setting" is the child's own school or setting, "Not known" when none is recorded,
  never the type of the agency that referred the child (where the CAF came from).
- A review's presenter is its lead professional, named the same on the page and in the
  document; a new case's presenter is the person named when it was added (the referrer by
  default); "Not yet allocated" when there is nobody.
"""

import io
import re
from datetime import date
from html import unescape

import pytest
from docx import Document

from maf.agendas.document import ITEM_COLUMNS, agenda_document
from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.cases.models import CaseStatus
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.outcomes.models import LeadKind, LeadProfessional

# The page shows the document's columns but its last: a new case's lead professional is agreed
# at the meeting, so the page names only who presents.
COLUMNS = tuple(title for title, _width in ITEM_COLUMNS if title != "Lead professional")


@pytest.fixture
def items(make_meeting, make_ready_case, make_case, make_agency, coordinator):
    """A meeting with a new case from a high school for a child with no school recorded, a
    new case whose child's school is known, a review led by a school nurse and a review
    with no lead professional yet. make_case's referrer is a high school (a
    SettingType.HIGH_SCHOOL referral), which must never show as the child's school."""
    meeting = make_meeting()
    primary = make_agency(name="Outwoods Edge Primary School", type=AgencyType.PRIMARY_SCHOOL)
    nursing = make_agency(name="School Nursing Service", type=AgencyType.HEALTH)
    no_school = make_ready_case("Oliver", "Reid", date(2012, 9, 3))
    at_school = make_ready_case("Jessica", "Thompson", date(2016, 5, 17), school=primary)
    led, unled = (
        make_case("Amelia", "Patel", date(2014, 2, 28)),
        make_case("Noah", "Evans", date(2011, 11, 1)),
    )
    for case in (led, unled):
        case.status = CaseStatus.OPEN
    db.session.add(
        LeadProfessional(
            case_id=led.id,
            kind=LeadKind.PRACTITIONER,
            name="Zoë Brennan",
            agency=nursing,
            agreed=True,
            starts_on=date(2026, 10, 13),
        )
    )
    db.session.commit()
    for case, kind in (
        (no_school, ItemKind.NEW_CASE),
        (at_school, ItemKind.NEW_CASE),
        (led, ItemKind.REVIEW),
        (unled, ItemKind.REVIEW),
    ):
        add_to_agenda(meeting, case, kind, coordinator)
    return meeting


def document_rows(meeting) -> dict[str, dict[str, str]]:
    """The Word agenda's item rows, by child, as column → cell text."""
    # The last table: the members table comes first when the forum has members.
    table = Document(io.BytesIO(agenda_document(meeting))).tables[-1]
    header = [cell.text for cell in table.rows[0].cells]
    rows = [
        dict(zip(header, (cell.text for cell in row.cells), strict=True)) for row in table.rows[1:]
    ]
    return {row["Child"]: row for row in rows if row["Type"] != "Break"}


def page_rows(client, sign_in, user, meeting) -> dict[str, dict[str, str]]:
    """The agenda page's item rows, by child, as column → cell text."""
    sign_in(user)
    html = client.get(f"/meetings/{meeting.id}/agenda").text
    table = re.search(r'<table class="govuk-table[^"]*">.*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    assert tuple(rows[0]) == COLUMNS
    return {row[3]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:] if row[1] != "Break"}


def test_school_or_setting_is_the_childs_never_the_referrers(items, client, sign_in, coordinator):
    document = document_rows(items)
    page = page_rows(client, sign_in, coordinator, items)

    for rows in (document, page):
        # Referred by a high school, but the child's own school was never recorded.
        assert rows["Oliver Reid"]["School or setting"] == "Not known"
        assert rows["Jessica Thompson"]["School or setting"] == "Outwoods Edge Primary School"
        assert rows["Amelia Patel"]["School or setting"] == "Not known"
        assert "High school" not in {row["School or setting"] for row in rows.values()}


def test_a_school_typed_as_not_listed_is_the_childs_school_or_setting(
    make_meeting, make_ready_case, coordinator, client, sign_in
):
    meeting = make_meeting()
    case = make_ready_case(
        "Leo", "Marsh", date(2015, 3, 9), school_name="Riverside Pupil Referral Unit"
    )
    add_to_agenda(meeting, case, ItemKind.NEW_CASE, coordinator)

    assert document_rows(meeting)["Leo Marsh"]["School or setting"] == (
        "Riverside Pupil Referral Unit"
    )
    page = page_rows(client, sign_in, coordinator, meeting)
    assert page["Leo Marsh"]["School or setting"] == "Riverside Pupil Referral Unit"


def test_a_reviews_presenter_is_its_lead_professional_on_the_page_and_in_the_document(
    items, client, sign_in, coordinator
):
    document = document_rows(items)
    page = page_rows(client, sign_in, coordinator, items)

    expected = {
        # A new case: the practitioner who completed the CAF, the builder's default.
        "Oliver Reid": "Daniel Kowalski",
        "Jessica Thompson": "Daniel Kowalski",
        # A review: its lead professional, by name, not the words "Lead professional".
        "Amelia Patel": "Zoë Brennan, School Nursing Service",
        "Noah Evans": "Not yet allocated",
    }
    assert {child: row["Presenter"] for child, row in document.items()} == expected
    assert {child: row["Presenter"] for child, row in page.items()} == expected
    # The document's own lead professional column agrees with its presenter for a review.
    assert document["Amelia Patel"]["Lead professional"] == "Zoë Brennan, School Nursing Service"
    assert document["Oliver Reid"]["Lead professional"] == ""


def test_a_presenter_the_coordinator_named_is_kept_for_a_review_too(
    make_meeting, make_case, coordinator
):
    meeting = make_meeting()
    case = make_case("Amelia", "Patel", date(2014, 2, 28))
    case.status = CaseStatus.OPEN
    db.session.commit()
    add_to_agenda(meeting, case, ItemKind.REVIEW, coordinator, presenter_name="Kwame Mensah")

    assert document_rows(meeting)["Amelia Patel"]["Presenter"] == "Kwame Mensah"


def test_the_builder_names_the_same_presenters(items, client, sign_in, coordinator):
    sign_in(coordinator)
    html = client.get(f"/meetings/{items.id}/agenda/build").text

    presenters = re.findall(r"Presenter: ([^<\n]+)", html)
    assert [unescape(name).strip() for name in presenters] == [
        "Daniel Kowalski",
        "Daniel Kowalski",
        "Zoë Brennan, School Nursing Service",
        "Not yet allocated",
    ]
