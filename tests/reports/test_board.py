"""The CAF team's progress report to the Children's Trust Board (seed 000): Table 1's key
measures, the targets for the next period, the high risks and issues, the recommendations and
the charts, as a Word document; and the pages where the team types in what cannot be counted.

The document is read back with python-docx, and converted by LibreOffice when it is installed.
"""

import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Twips
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.cases.models import CaseStatus, SettingType
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.reports import board
from maf.reports.models import BoardEntry, BoardEntryKind, BoardPeriod
from tests.conftest import converted_to_pdf, csrf_token_from, submit

JAN, MAR31, APR1, JUN30 = date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 6, 30)
PERIOD_URL = "/reports/board/{district}/2026-04-01/2026-06-30"


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def charnwood(coordinator):
    return coordinator.districts[0]


@pytest.fixture
def data(make_case, make_agency, make_district, charnwood, school, need_statements, coordinator):
    """Cases in Charnwood before, in and after two quarters: Q1 (January–March 2026) and Q2
    (April–June 2026). British Summer Time starts on 29 March 2026, so a case received at
    23:30 UTC on 31 March was received on 1 April in England."""
    primary = make_agency(name="Outwoods Edge Primary School", type=AgencyType.PRIMARY_SCHOOL)
    health = make_agency(name="Charnwood Health Visiting", type=AgencyType.HEALTH)
    police = make_agency(name="Leicestershire Police", type=AgencyType.POLICE)
    voluntary = make_agency(name="Charnwood Family Support", type=AgencyType.VOLUNTARY)
    melton = make_district("Melton")
    need_a, need_b, need_c = need_statements[:3]
    counter = iter(range(100))

    def caf(received, completed, agency, *, status=None, district=None, needs=(), **fields):
        number = next(counter)
        case = make_case(
            f"Child{number}",
            f"Family{number}",
            date(2014, 1, 1 + number),
            f"LE{11 + number} 1AA",
            district=district,
            needs=needs,
        )
        case.created_at = received
        case.assessment_completed_on = completed
        case.referrer_agency = agency
        if status is not None:
            case.status = status
        for name, value in fields.items():
            setattr(case, name, value)
        db.session.commit()
        return case

    # Before Q1. A is closed during Q2.
    caf(utc(2025, 11, 10, 10), date(2025, 11, 3), school, status=CaseStatus.CLOSED,
        closed_on=date(2026, 5, 5))  # fmt: skip
    caf(utc(2025, 12, 1, 9), date(2025, 11, 20), school)
    # In Q1.
    caf(utc(2026, 2, 10, 9), date(2026, 2, 2), primary, setting_type=SettingType.PRIMARY_SCHOOL)
    caf(utc(2026, 3, 31, 22, 30), date(2026, 3, 30), primary)  # 23:30 BST: still Q1
    # Received 00:30 BST on 1 April (Q2) but completed on 31 March (Q1).
    caf(utc(2026, 3, 31, 23, 30), date(2026, 3, 31), school)
    # In Q2.
    caf(utc(2026, 4, 15, 9), date(2026, 4, 10), health, needs=[need_a, need_b],
        setting_type=SettingType.HEALTH)  # fmt: skip
    caf(utc(2026, 5, 20, 9), date(2026, 5, 18), school, needs=[need_a])
    caf(utc(2026, 6, 30, 22, 30), date(2026, 6, 30), police, needs=[need_c])  # 23:30 BST
    # Completed in Q2 but received 00:30 BST on 1 July: started in Q3.
    caf(utc(2026, 6, 30, 23, 30), date(2026, 6, 29), police)
    # Not counted at all: merged into an existing CAF; another district; after Q2.
    caf(utc(2026, 5, 1, 9), date(2026, 4, 28), voluntary, status=CaseStatus.MERGED)
    caf(utc(2026, 5, 2, 9), date(2026, 5, 1), voluntary, district=melton)
    caf(utc(2026, 7, 10, 9), date(2026, 7, 8), voluntary)

    # Practitioners trained, as the team recorded them period by period.
    board.save_inputs(
        board.board_period(charnwood, date(2025, 10, 1), date(2025, 12, 31), coordinator),
        board.BoardInputs(practitioners_trained=10),
        coordinator,
    )
    q1 = board.board_period(charnwood, JAN, MAR31, coordinator)
    board.save_inputs(q1, board.BoardInputs(practitioners_trained=25), coordinator)
    q2 = board.board_period(charnwood, APR1, JUN30, coordinator)
    board.save_inputs(
        q2,
        board.BoardInputs(
            target_started=6,
            target_completed=5,
            target_organisations=3,
            target_trained=20,
            practitioners_trained=12,
            next_target_started=10,
            next_target_completed=8,
            next_target_organisations=2,
            next_target_trained=15,
        ),
        coordinator,
    )
    later = board.board_period(charnwood, date(2026, 7, 1), date(2026, 9, 30), coordinator)
    board.save_inputs(later, board.BoardInputs(practitioners_trained=7), coordinator)
    board.save_inputs(
        board.board_period(melton, JAN, MAR31, coordinator),
        board.BoardInputs(practitioners_trained=100),
        coordinator,
    )
    board.add_entry(
        q2,
        BoardEntryKind.RISK,
        "Health visitors are not yet starting CAFs",
        "Briefing at the health visitors' team meeting in July",
        coordinator,
    )
    board.add_entry(
        q2,
        BoardEntryKind.RISK,
        "Lead professionals leaving posts",
        "Hand-over checklist\nagreed with schools",
        coordinator,
    )
    board.add_entry(
        q2,
        BoardEntryKind.ISSUE,
        "No CAF training dates in the summer term",
        "Two extra courses booked for September",
        coordinator,
    )
    board.add_entry(
        q2, BoardEntryKind.RECOMMENDATION, "Note the progress in Table 1", "", coordinator
    )
    board.add_entry(
        q2,
        BoardEntryKind.RECOMMENDATION,
        "Ask each partner to name a CAF champion",
        "",
        coordinator,
    )
    return {"q1": q1, "q2": q2}


def rows_of(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_table_1_for_each_quarter_counts_cases_by_the_seed_000_definitions(data):
    # Q1, 1 January–31 March 2026.
    # Started: before = A, B = 2; in Q1 = C, D (E was received on 1 April in England) = 2.
    # Completed: before = A, B = 2; in Q1 = C, D, E = 3.
    # Organisations: before = the high school = 1; by 31 March + the primary school = 2.
    # Practitioners trained: before = October–December's 10; in Q1 = 25.
    measures = board.key_measures(data["q1"])
    assert [(m.label, m.previous, m.target, m.increase, m.total) for m in measures] == [
        ("CAFs started", 2, 0, 2, 4),
        ("CAFs completed", 2, 0, 3, 5),
        ("Organisations completing CAFs", 1, 0, 1, 2),
        ("Practitioners trained", 10, 0, 25, 35),
    ]


def test_the_report_reads_back_with_table_1_and_the_next_period_targets(data):
    document = Document(io.BytesIO(board.board_report(data["q2"])))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)

    assert document.paragraphs[0].text == (
        "Charnwood: CAF implementation progress report to the Children's Trust Board"
    )
    assert "Period: 1 April 2026 to 30 June 2026" in text
    assert "1. Purpose" in text
    assert "Table 1: Key measures for CAF implementation to June 2026" in text

    table_1, table_2, risks, issues = document.tables
    # Q2, 1 April–30 June 2026.
    # Started: before 1 April = A, B, C, D = 4; in Q2 = E (00:30 BST 1 April), F, G,
    #   H (23:30 BST 30 June) = 4; I (1 July), the merged case, Melton's and July's are not.
    #   Total 4 + 4 = 8.
    # Completed: before = A, B, C, D, E (31 March) = 5; in Q2 = F, G, H, I (29 June) = 4;
    #   total 9.
    # Organisations: before = high school, primary school = 2; by 30 June + health visiting
    #   (F) and the police (H, I) = 4, so 2 new; the voluntary sector's only Charnwood CAFs
    #   were merged or completed in July.
    # Practitioners trained: before = 10 (Oct–Dec) + 25 (Q1) = 35, not Melton's 100 or
    #   July–September's 7; in Q2 = 12; total 47.
    assert rows_of(table_1) == [
        ["Measure", "Previous total", "Target for the period", "Increase in the period", "Total"],
        ["CAFs started", "4", "6", "4", "8"],
        ["CAFs completed", "5", "5", "4", "9"],
        ["Organisations completing CAFs", "2", "3", "2", "4"],
        ["Practitioners trained", "35", "20", "12", "47"],
    ]
    # Next period: Table 1's totals plus the next targets: 8 + 10, 9 + 8, 4 + 2, 47 + 15.
    assert rows_of(table_2) == [
        [
            "Measure",
            "Total to 30 June 2026",
            "Target for the next period",
            "Total by the end of the next period",
        ],
        ["CAFs started", "8", "10", "18"],
        ["CAFs completed", "9", "8", "17"],
        ["Organisations completing CAFs", "4", "2", "6"],
        ["Practitioners trained", "47", "15", "62"],
    ]
    # Closed in Q2: A (5 May). Open on 30 June: B, C, D, E, F, G, H = 7.
    assert "In the period 1 CAF was closed; 7 CAFs were open at the end of 30 June 2026." in text


def test_the_report_has_the_risks_issues_recommendations_and_charts(data):
    document = Document(io.BytesIO(board.board_report(data["q2"])))
    _, _, risks, issues = document.tables

    assert rows_of(risks) == [
        ["Risk", "Mitigating action(s)"],
        [
            "Health visitors are not yet starting CAFs",
            "Briefing at the health visitors' team meeting in July",
        ],
        ["Lead professionals leaving posts", "Hand-over checklist\nagreed with schools"],
    ]
    assert rows_of(issues) == [
        ["Issue", "Solution"],
        ["No CAF training dates in the summer term", "Two extra courses booked for September"],
    ]
    numbered = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert numbered == ["Note the progress in Table 1", "Ask each partner to name a CAF champion"]

    # Monthly started/completed/closed, the needs identified, and where CAFs came from.
    assert len(document.inline_shapes) == 3
    captions = [p.text for p in document.paragraphs if p.text.startswith("Figure ")]
    assert captions == [
        "Figure 1: CAFs started (received), completed and closed each month",
        "Figure 2: Needs identified in CAFs completed in the period (top 10)",
        "Figure 3: Where CAFs came from: settings of the CAFs completed in the period",
    ]
    descriptions = [shape._inline.docPr.get("descr") for shape in document.inline_shapes]
    # April: E, F started, F completed; May: G started and completed, A closed;
    # June: H started, H and I completed.
    assert descriptions[0] == (
        "Bar chart by month. April 2026: 2 started, 1 completed, 0 closed; "
        "May 2026: 1 started, 1 completed, 1 closed; June 2026: 1 started, 2 completed, "
        "0 closed"
    )


def test_the_report_is_a4_portrait_in_the_house_style(data):
    document = Document(io.BytesIO(board.board_report(data["q2"])))
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert (section.page_width, section.page_height) == (Twips(11906), Twips(16838))
    header = "\n".join(p.text for p in section.header.paragraphs)
    footer = "\n".join(p.text for p in section.footer.paragraphs)
    assert "OFFICIAL-SENSITIVE" in header
    assert "OFFICIAL-SENSITIVE" in footer
    assert "Page 1 of 1" in footer  # placeholders the office suite replaces
    assert document.styles["Normal"].font.name == "Arial"
    assert document.core_properties.category == "OFFICIAL-SENSITIVE"


def test_a_period_with_nothing_entered_and_no_cases_still_makes_a_report(charnwood, coordinator):
    empty = board.board_period(charnwood, date(2030, 1, 1), date(2030, 3, 31), coordinator)
    document = Document(io.BytesIO(board.board_report(empty)))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert len(document.tables) == 2  # Table 1 and Table 2; no empty risk or issue tables
    assert "No high risks were recorded for this period." in text
    assert "No high-priority issues were recorded for this period." in text
    assert "The report makes no recommendations to the Board this period." in text
    assert len(document.inline_shapes) == 0


def test_libreoffice_opens_the_report(data, tmp_path):
    assert converted_to_pdf(board.board_report(data["q2"]), tmp_path).startswith(b"%PDF")


# --- services --------------------------------------------------------------------------


def test_periods_cannot_overlap_or_run_backwards_or_past_a_year(charnwood, coordinator):
    board.board_period(charnwood, APR1, JUN30, coordinator)
    with pytest.raises(board.BoardError, match="already has a period from 1 April 2026"):
        board.board_period(charnwood, date(2026, 6, 1), date(2026, 8, 31), coordinator)
    with pytest.raises(board.BoardError, match="same as or after"):
        board.board_period(charnwood, date(2026, 9, 30), date(2026, 9, 1), coordinator)
    with pytest.raises(board.BoardError, match="at most a year"):
        board.board_period(charnwood, date(2027, 1, 1), date(2028, 1, 1), coordinator)
    # Asking again for an existing period finds it rather than refusing it.
    assert board.board_period(charnwood, APR1, JUN30, coordinator).starts_on == APR1


def test_entries_need_their_response_and_changes_are_audited(charnwood, coordinator):
    period = board.board_period(charnwood, APR1, JUN30, coordinator)
    with pytest.raises(board.BoardError, match="Enter the mitigating action"):
        board.add_entry(period, BoardEntryKind.RISK, "Staff turnover", "  ", coordinator)
    entry = board.add_entry(
        period, BoardEntryKind.ISSUE, "No venue", "Book the library", coordinator
    )
    board.remove_entry(entry, coordinator)
    assert db.session.scalars(select(BoardEntry)).all() == []
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type.in_(["board_period", "board_entry"]))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["board_period_started", "board_entry_added", "board_entry_removed"]


# --- pages -----------------------------------------------------------------------------


def test_coordinator_starts_a_period_enters_figures_and_downloads_the_report(
    client, sign_in, coordinator, charnwood
):
    sign_in(coordinator)
    response = submit(
        client,
        "/reports/board",
        {"district": charnwood.id, "starts_on": ["1", "4", "2026"], "ends_on": ["30", "6", "2026"]},
    )
    url = PERIOD_URL.format(district=charnwood.id)
    assert response.status_code == 302
    assert response.headers["Location"] == url

    figures = {name: str(number) for number, name in enumerate(board.BoardInputs.__annotations__)}
    response = submit(client, url, figures)
    assert response.status_code == 302
    period = db.session.scalar(select(BoardPeriod))
    db.session.refresh(period)
    assert (period.target_started, period.practitioners_trained, period.next_target_trained) == (
        0,
        4,
        8,
    )

    response = submit(
        client,
        url,
        {"risk-text": "Schools unsure of consent", "risk-response": "Guidance to heads"},
        action=f"{url}/entries/risk",
    )
    assert response.status_code == 302
    response = submit(
        client,
        url,
        {"recommendation-text": "Endorse the training plan"},
        action=f"{url}/entries/recommendation",
    )
    assert response.status_code == 302
    page = client.get(url)
    assert "Schools unsure of consent" in page.text
    assert "Endorse the training plan" in page.text

    entry = db.session.scalar(select(BoardEntry).where(BoardEntry.kind == BoardEntryKind.RISK))
    response = submit(client, url, {}, action=f"{url}/entries/{entry.id}/remove")
    assert response.status_code == 302
    assert "Schools unsure of consent" not in client.get(url).text

    download = client.get(f"{url}.docx")
    assert download.status_code == 200
    assert download.mimetype.endswith("wordprocessingml.document")
    assert "attachment" in download.headers["Content-Disposition"]
    document = Document(io.BytesIO(download.data))
    assert document.tables[0].rows[4].cells[3].text == "4"  # practitioners trained, entered
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "board_report_downloaded")
    )
    listing = client.get("/reports/board")
    assert "1 April 2026 to 30 June 2026" in listing.text


def test_form_errors_are_shown_beside_the_fields(client, sign_in, coordinator, charnwood):
    sign_in(coordinator)
    board.board_period(charnwood, APR1, JUN30, coordinator)
    url = PERIOD_URL.format(district=charnwood.id)
    figures = {name: "1" for name in board.BoardInputs.__annotations__}
    response = submit(
        client,
        url,
        {**figures, "target_started": "-1", "target_completed": "lots", "target_trained": ""},
    )
    assert response.status_code == 400
    assert "Target for CAFs started must be between 0 and 1,000,000" in response.text
    assert "Target for CAFs completed must be a whole number, like 12" in response.text
    assert "Enter the target for practitioners trained" in response.text
    assert response.text.count("must be a whole number") == 2  # the summary and the field
    assert 'href="#target_started"' in response.text
    assert db.session.scalar(select(BoardPeriod.target_organisations)) == 0  # nothing saved

    response = submit(client, url, {"risk-text": "Staff turnover"}, action=f"{url}/entries/risk")
    assert response.status_code == 400
    assert "Enter the mitigating action" in response.text
    assert "<title>Error: " in response.text
    assert 'href="#risk-response"' in response.text

    response = submit(
        client,
        "/reports/board",
        {"district": charnwood.id, "starts_on": ["1", "7", "2026"], "ends_on": ["1", "6", "2026"]},
    )
    assert response.status_code == 400
    assert "The last day must be the same as or after the first day" in response.text
    response = submit(
        client,
        "/reports/board",
        {"district": charnwood.id, "starts_on": ["1", "6", "2026"], "ends_on": ["31", "8", "2026"]},
    )
    assert response.status_code == 400
    assert "periods cannot overlap" in response.text


def test_other_districts_periods_are_not_found(
    client, sign_in, make_user, make_district, coordinator, charnwood
):
    melton = make_district("Melton")
    board.board_period(charnwood, APR1, JUN30, coordinator)
    outsider = make_user(Role.COORDINATOR, districts=[melton])
    sign_in(outsider)
    url = PERIOD_URL.format(district=charnwood.id)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}.docx").status_code == 404
    token = csrf_token_from(client.get("/reports/board").text)
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    # Nor can a period be started there: the district is not among the choices.
    response = client.post(
        "/reports/board",
        data={
            "csrf_token": token,
            "district": charnwood.id,
            "starts_on": ["1", "7", "2026"],
            "ends_on": ["30", "9", "2026"],
        },
    )
    assert response.status_code == 400
    assert "Select the district" in response.text
    assert "1 April 2026" not in client.get("/reports/board").text
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "permission_denied", AuditEvent.user_id == outsider.id
        )
    )


def test_practitioners_are_refused(client, sign_in, make_user, coordinator, charnwood):
    board.board_period(charnwood, APR1, JUN30, coordinator)
    url = PERIOD_URL.format(district=charnwood.id)
    sign_in(make_user(Role.PRACTITIONER))
    assert client.get("/reports/board").status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(f"{url}.docx").status_code == 403


def test_admins_see_every_district(client, sign_in, make_user, coordinator, charnwood):
    board.board_period(charnwood, APR1, JUN30, coordinator)
    url = PERIOD_URL.format(district=charnwood.id)
    sign_in(make_user(Role.ADMIN))
    assert "1 April 2026 to 30 June 2026" in client.get("/reports/board").text
    assert client.get(url).status_code == 200
    assert client.get(f"{url}.docx").status_code == 200


def test_unstarted_periods_and_malformed_dates_are_not_found(
    client, sign_in, coordinator, charnwood
):
    sign_in(coordinator)
    for url in (
        f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30",  # not started
        f"/reports/board/{charnwood.id}/2026-4-1/2026-06-30",
        f"/reports/board/{charnwood.id}/2026-02-30/2026-06-30",
        f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30.docx",
    ):
        assert client.get(url).status_code == 404, url
