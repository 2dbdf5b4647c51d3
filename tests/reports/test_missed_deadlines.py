"""The reports say why a deadline was missed (issue 14 point 2): the reports page's "Missed
deadlines and why" and the board report's table of the same list the late first discussions
(seed 002 B3: within 20 working days of the assessment) and late reviews (seed 002 C1: by the
date the forum set) of the period, each with the coordinator's reason or "No reason recorded".

The period is January to March 2027, in Charnwood:

    case      completed    first-meeting deadline  first discussed   then
    explained 2 Nov 2026   30 Nov 2026             12 Jan (late)     review due 1 Feb, held 9 Feb
    silent    2 Nov 2026   30 Nov 2026             12 Jan (late)     -
    prompt    4 Jan 2027   1 Feb 2027              12 Jan (on time)  -
"""

import io
import re
from datetime import date
from html import unescape

import pytest
from docx import Document

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.cases.deadlines import first_meeting_deadline, working_days_between
from maf.outcomes import late_reasons
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Outcome
from maf.reports import board, figures
from tests.conftest import at_the_meeting, submit

WHY_FIRST = "The December forum was cancelled: the chair was ill."
WHY_REVIEW = "The February forum was moved a week for half term."
QUARTER = figures.Period(date(2027, 1, 1), date(2027, 3, 31))


def _record(item, coordinator, review_on):
    outcomes.save_item_record(
        item,
        outcomes.ItemDetails(
            outcome=Outcome.CONTINUE,
            discussion="Agreed a plan",
            next_review_on=review_on,
            lead=outcomes.LeadDetails(
                kind=LeadKind.PRACTITIONER,
                name="Sam Patel",
                agreed=True,
                email="sam.patel@example.org",
            ),
            actions=[],
        ),
        coordinator,
    )


@pytest.fixture
def quarter(make_ready_case, make_forum, make_meeting, coordinator):
    forum = make_forum()
    january = make_meeting(date(2027, 1, 12), forum=forum)
    february = make_meeting(date(2027, 2, 9), forum=forum)
    cases = {
        "explained": make_ready_case(
            "Cara", "Explained", assessment_completed_on=date(2026, 11, 2)
        ),
        "silent": make_ready_case("Dan", "Silent", assessment_completed_on=date(2026, 11, 2)),
        "prompt": make_ready_case("Eve", "Prompt", assessment_completed_on=date(2027, 1, 4)),
    }
    for case in cases.values():
        _record(
            agendas.add_to_agenda(january, case, ItemKind.NEW_CASE, coordinator),
            coordinator,
            date(2027, 2, 1),
        )
    at_the_meeting(january)
    outcomes.complete_meeting(january, coordinator)
    explained = cases["explained"]
    assert explained.next_review_on == date(2027, 2, 1)
    # Said before the review was held, while the review date it explains was the case's.
    late_reasons.save_reason(
        explained, late_reasons.deadline_for(explained, "review"), WHY_REVIEW, coordinator
    )
    review = agendas.add_to_agenda(february, explained, ItemKind.REVIEW, coordinator)
    _record(review, coordinator, date(2027, 5, 4))
    at_the_meeting(february)
    outcomes.complete_meeting(february, coordinator)
    return cases


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_periods_misses_are_listed_with_their_reasons(quarter, coordinator):
    explained, silent = quarter["explained"], quarter["silent"]
    late_reasons.save_reason(
        explained, late_reasons.deadline_for(explained, "first_meeting"), WHY_FIRST, coordinator
    )

    missed = figures.missed_deadlines(QUARTER, coordinator.districts[0].id)

    assert [(m.case_id, m.rule, m.due_on, m.held_on, m.late_by, m.why) for m in missed] == [
        (
            explained.id,
            "first_meeting",
            date(2026, 11, 30),
            date(2027, 1, 12),
            "28 working days",
            WHY_FIRST,
        ),
        (
            silent.id,
            "first_meeting",
            date(2026, 11, 30),
            date(2027, 1, 12),
            "28 working days",
            "No reason recorded",
        ),
        (explained.id, "review", date(2027, 2, 1), date(2027, 2, 9), "8 days", WHY_REVIEW),
    ]
    # The list is the late ones the time-rule figures count, no more and no fewer.
    assert figures.first_discussion(QUARTER, coordinator.districts[0].id)[-1] == 1
    assert figures.reviews_on_time(QUARTER, coordinator.districts[0].id).on_time == 0
    assert first_meeting_deadline(date(2026, 11, 2)) == date(2026, 11, 30)
    assert working_days_between(date(2026, 11, 30), date(2027, 1, 12)) == 28


def test_a_reason_recorded_on_the_page_is_on_the_reports_page_and_in_the_board_report(
    quarter, client, sign_in, coordinator, app_clock
):
    explained = quarter["explained"]
    app_clock.london(date(2027, 4, 6), 10)
    sign_in(coordinator)
    saved = submit(
        client, f"/cases/{explained.id}/late-reason?rule=first_meeting", {"reason": WHY_FIRST}
    )
    assert saved.status_code == 302

    district = coordinator.districts[0]
    page = client.get(f"/reports?district={district.id}&from=2027-01-01&to=2027-03-31")
    words = _text(page.text)
    section = words[words.index("Missed deadlines and why") :]
    assert (
        f"Case {explained.id} First meeting by its deadline 30 November 2026 "
        f"12 January 2027 28 working days {WHY_FIRST}"
    ) in section
    assert (
        f"Case {quarter['silent'].id} First meeting by its deadline 30 November 2026 "
        "12 January 2027 28 working days No reason recorded"
    ) in section
    assert (
        f"Case {explained.id} Review by the date set 1 February 2027 9 February 2027 8 days "
        f"{WHY_REVIEW}"
    ) in section
    assert f"Case {quarter['prompt'].id} " not in section
    # The board sees cases by number, never the child's name.
    assert "Cara Explained" not in section

    period = board.board_period(district, QUARTER.starts_on, QUARTER.ends_on, coordinator)
    document = Document(io.BytesIO(board.board_report(period)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "7. Missed deadlines and why" in headings
    [table] = [t for t in document.tables if t.rows[0].cells[-1].text == "Why"]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows == [
        ["Case", "Deadline", "Due by", "Discussed on", "Late by", "Why"],
        [
            f"Case {explained.id}",
            "First meeting by its deadline",
            "30 November 2026",
            "12 January 2027",
            "28 working days",
            WHY_FIRST,
        ],
        [
            f"Case {quarter['silent'].id}",
            "First meeting by its deadline",
            "30 November 2026",
            "12 January 2027",
            "28 working days",
            "No reason recorded",
        ],
        [
            f"Case {explained.id}",
            "Review by the date set",
            "1 February 2027",
            "9 February 2027",
            "8 days",
            WHY_REVIEW,
        ],
    ]


def test_a_period_without_misses_says_so(coordinator, charnwood_period_without_cases):
    document = Document(io.BytesIO(board.board_report(charnwood_period_without_cases)))
    texts = [p.text for p in document.paragraphs]
    assert "No case was first discussed or reviewed after its deadline." in texts


@pytest.fixture
def charnwood_period_without_cases(coordinator):
    return board.board_period(
        coordinator.districts[0], QUARTER.starts_on, QUARTER.ends_on, coordinator
    )
