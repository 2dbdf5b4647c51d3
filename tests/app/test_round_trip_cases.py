"""The child and the CAF: unusual names and injection payloads typed at intake, in consent and
withdrawal notes and in need statements come back intact and inert in the case pages, the
agenda document, the reports' CSV files and charts (issue 8: round-trip robustness).

The texts and readers are shared with test_round_trip.py, which explains the approach.
"""

import csv
import io
from datetime import date

import lxml.etree
import pytest
from sqlalchemy import select

from maf.agendas.models import AgendaItem
from maf.auth.models import Role
from maf.cases import services as cases
from maf.cases.models import Case, MatchVerdict, NeedStatement, TierOutcome
from maf.extensions import db
from maf.reports import charts
from maf.reports.views import neutralised
from tests.app.test_round_trip import TEXTS, post_form, read_docx, rows, shows_escaped
from tests.conftest import PASSWORD, submit

SVG = "{http://www.w3.org/2000/svg}"


def intake(client, school, text, **values) -> Case:
    """Record a completed CAF through the safeguarding screen and the intake form, with the
    text in every free-text box."""
    post_form(client, "/cases/new", "/cases/new", {"concern": "no"})
    post_form(
        client,
        "/cases/new/details",
        "/cases/new/details",
        {
            "given_name": text.text,
            "family_name": text.text,
            "other_names": text.text,
            "date_of_birth": ["17", "5", "2012"],
            "gender": "female",
            "address": f"{text.text}\r\n1 Market Street",
            "postcode": "LE11 3TU",
            "school": "0",
            "referrer_name": text.text,
            "referrer_email": "pastoral.lead@example.org",
            "referrer_agency": str(school.id),
            "setting_type": "high_school",
            "assessment_completed_on": ["2", "11", "2026"],
            "strengths": f"{text.text}\r\nLoves football",
            "child_views": f"{text.text}\r\nWants to stay at her school",
            "family_views": text.text,
            "consent_given_by": "parent_carer",
            "consent_given_by_name": text.text,
            "consent_given_on": ["2", "11", "2026"],
            "consent_method": "written",
            "share_consent": "given",
            "share_with_forum": "y",
            **values,
        },
    )
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


def make_ready(case: Case, coordinator) -> None:
    for candidate in case.match_candidates:
        cases.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, coordinator)
    cases.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", coordinator)
    cases.mark_ready_for_forum(case, coordinator)


@pytest.mark.parametrize("text", TEXTS)
def test_a_childs_details_round_trip_to_the_case_page_and_the_agenda(
    client, sign_in, coordinator, school, make_forum, make_meeting, text
):
    """Seed 002 A4 / 003 §4: the agenda names each child so members can check their records;
    the names must be the ones typed, in any script, and never markup."""
    name, lines = text.one_line, text.multi_line
    sign_in(coordinator)
    case = intake(client, school, text)

    child = case.child
    assert (child.given_name, child.family_name, child.other_names) == (name, name, name)
    assert (case.referrer_name, case.consents[0].given_by_name) == (name, name)
    assert child.address == f"{lines}\n1 Market Street"
    assert (case.strengths, case.child_views, case.family_views) == (
        f"{lines}\nLoves football",
        f"{lines}\nWants to stay at her school",
        lines,
    )
    shows_escaped(
        client,
        f"/cases/{case.id}",
        f"{name} {name}",
        f"{case.referrer_name}, {school.name}",
        f"{lines}\nLoves football",
        f"{lines}\nWants to stay at her school",
    )
    shows_escaped(client, "/cases/", f"{name} {name}")

    make_ready(case, coordinator)
    meeting = make_meeting(date(2027, 1, 12), forum=make_forum())
    build = f"/meetings/{meeting.id}/agenda/build"
    shows_escaped(client, build, f"{name} {name}")
    post_form(
        client,
        build,
        f"/meetings/{meeting.id}/agenda/selected",
        {"case": str(case.id), f"presenter-{case.id}": "Daniel Kowalski"},
    )
    assert db.session.scalar(select(AgendaItem.case_id)) == case.id
    shows_escaped(client, f"/meetings/{meeting.id}/agenda", f"{name} {name}")
    document = read_docx(client.get(f"/meetings/{meeting.id}/agenda.docx").data)
    (item,) = rows(document.tables[-1])[1:]  # the forum has no members, so one table
    assert item[3] == f"{name} {name}"
    assert item[6] == f"{name}\n{school.name}"


@pytest.mark.parametrize("text", TEXTS)
def test_withdrawal_and_consent_notes_round_trip_to_the_case_page(
    client, sign_in, coordinator, make_case, text
):
    """Seed 003 §4.11-4.24: consent withdrawn, sharing without consent and a withdrawn CAF
    keep their reasons as written."""
    lines = text.multi_line
    sign_in(coordinator)
    case = make_case("Amy", "Lee")
    consent = case.consents[0]
    post_form(
        client,
        f"/cases/{case.id}/sharing-without-consent",
        f"/cases/{case.id}/sharing-without-consent",
        {
            "decided_by_name": text.text,
            "decided_on": ["3", "11", "2026"],
            "ground": "significant_harm",
            "shared_with": text.text,
            "reason": f"{text.text}\r\nSecond line",
        },
    )
    post_form(
        client,
        f"/cases/{case.id}/consents/{consent.id}/withdraw",
        f"/cases/{case.id}/consents/{consent.id}/withdraw",
        {"withdrawn_on": ["4", "11", "2026"], "note": f"{text.text}\r\nBy phone"},
    )
    post_form(
        client,
        f"/cases/{case.id}/withdraw",
        f"/cases/{case.id}/withdraw",
        {"reason": f"{text.text}\r\nFamily moved away"},
    )

    db.session.expire_all()  # changed by the requests' own sessions
    (record,) = case.sharing_without_consent
    assert (record.decided_by_name, record.shared_with) == (text.one_line, text.one_line)
    assert record.reason == f"{lines}\nSecond line"
    assert consent.withdrawal_note == f"{lines}\nBy phone"
    shows_escaped(
        client,
        f"/cases/{case.id}",
        f"{text.one_line} on 3 November 2026",
        f"{lines}\nSecond line",
        f"{lines}\nBy phone",
        f"{lines}\nFamily moved away",
    )
    shows_escaped(client, f"/cases/{case.id}/timeline", f"{lines}\nFamily moved away")


# The machine's fonts may lack Arabic or Chinese letters, which only changes how matplotlib
# measures the label: the SVG keeps the text, and the browser draws it with its own fonts.
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@pytest.mark.parametrize("text", TEXTS)
def test_a_need_statement_round_trips_to_intake_the_reports_csv_and_chart(
    app, client, sign_in, coordinator, make_user, school, text
):
    """Seed 004: needs are counted from standard statements, which an admin may add; the
    statement comes back as text in the case, the report's table, its CSV file (formulas
    neutralised) and its chart."""
    name = text.one_line
    admin = app.test_client()
    submit(admin, "/sign-in", {"email": make_user(Role.ADMIN).email, "password": PASSWORD})
    post_form(
        admin,
        "/cases/needs",
        "/cases/needs",
        {"domain": "development", "element": text.text, "text": text.text},
    )
    need = db.session.scalar(select(NeedStatement).where(NeedStatement.text == name))
    assert need.element == name
    shows_escaped(admin, "/cases/needs", name)

    sign_in(coordinator)
    case = intake(client, school, text, needs_development=[str(need.id)])
    assert case.needs == [need]
    shows_escaped(client, f"/cases/{case.id}", name)

    scope = f"district={coordinator.districts[0].id}&from=2026-11-01&to=2026-11-30"
    shows_escaped(client, f"/reports?{scope}", name)
    table = client.get(f"/reports/tables/needs.csv?{scope}")
    assert table.status_code == 200
    content = table.data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(content)))[1] == [neutralised(name), need.domain.label, "1"]
    chart = lxml.etree.fromstring(client.get(f"/reports/charts/needs.svg?{scope}").data)
    elements = {element.tag for element in chart.iter(lxml.etree.Element)}
    assert all(tag.startswith(SVG) for tag in elements)
    assert f"{SVG}script" not in elements and f"{SVG}foreignObject" not in elements
    assert not chart.xpath("//@*[starts-with(name(), 'on')]")
    # The bar's label is the statement as text, wrapped (and cut short) as the chart does.
    written = "".join(chart.itertext())
    assert all(line in written for line in charts._label(name).split("\n"))
