"""The accessibility statement and the privacy notice: readable by everyone from every page's
footer, edited by an admin in plain text (never HTML), every version kept, and the notice's
retention periods taken from the local rules (seed 002 D3: 1 year, then 6 archived)."""

import re
from datetime import date
from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.extensions import db
from maf.public_pages import services as pages
from maf.rules import services as rules
from tests.conftest import csrf_token_from, submit


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.mark.parametrize("path", ["/accessibility", "/privacy"])
def test_everyone_reads_the_pages_signed_out(client, database, path):
    page = client.get(path)
    assert page.status_code == 200
    assert "Last updated 2 December 2026" in _text(page.text)


def test_the_accessibility_statement_has_the_model_statements_sections(client, database):
    text = _text(client.get("/accessibility").text)
    for section in (
        "Compliance status",
        "Non-accessible content",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Equality and Human Rights Commission (EHRC)",
        "Equality Commission for Northern Ireland (ECNI)",
        "(No. 2) Accessibility Regulations 2018",
        "Preparation of this accessibility statement",
        "This statement was prepared on 2 December 2026",
    ):
        assert section in text, section


def test_the_privacy_notice_states_the_retention_rules_in_force(client, admin, database):
    text = _text(client.get("/privacy").text)
    for section in ("Who we are", "What information we hold", "lawful basis", "Your rights"):
        assert section in text
    assert "Information Commissioner's Office (ICO)" in text
    # Seed 002 D3: accessible for 1 year, then archived for 6 more.
    assert "for 1 year. It is then archived" in text
    assert "for 6 more years" in text and "(7 years after closure in all)" in text
    assert pages.RETENTION_MARKER not in text

    rules.change("retention_years_accessible", 2, by=admin)
    rules.change("retention_years_archived", 4, by=admin)
    db.session.commit()
    text = _text(client.get("/privacy").text)
    assert "for 2 years. It is then archived" in text
    assert "for 4 more years" in text and "(6 years after closure in all)" in text
    assert "1 year" not in text


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_links_both_pages_from_its_footer(
    client, sign_in, coordinator, signed_in, database
):
    if signed_in:
        sign_in(coordinator)
    for path in ("/sign-in", "/accessibility", "/privacy", "/forgotten-password") + (
        ("/", "/forums", "/account") if signed_in else ()
    ):
        page = client.get(path, follow_redirects=True)
        footer = page.text.split('class="govuk-footer"', 1)[1]
        assert 'href="/accessibility">Accessibility statement</a>' in footer, path
        assert 'href="/privacy">Privacy notice</a>' in footer, path


def test_an_admin_publishes_a_version_and_every_version_is_kept(client, sign_in, admin, app_clock):
    app_clock.london(date(2027, 3, 4), 11)
    sign_in(admin)
    edit = client.get("/accessibility/edit")
    assert "Not yet published" in edit.text
    body = (
        "This statement applies to the Charnwood early help service.\n\n"
        "## Compliance status\n\nPartially compliant: see below.\n\n"
        "## Non-accessible content\n\n- Older uploaded documents\n- Maps\n\n"
        "Contact accessibility@charnwood.example or https://charnwood.example/help.\n\n"
        "<script>alert('x')</script> stays text."
    )
    response = submit(client, "/accessibility/edit", {"body": body})
    assert response.status_code == 302 and response.headers["Location"] == "/accessibility"
    page = client.get("/accessibility").text
    assert '<h2 class="govuk-heading-m">Compliance status</h2>' in page
    assert "<li>Older uploaded documents</li>" in page
    assert '<a class="govuk-link" href="mailto:accessibility@charnwood.example">' in page
    assert '<a class="govuk-link" href="https://charnwood.example/help">' in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "Last updated 4 March 2027" in _text(page)
    # The statement was first written with the defaults, then reviewed now.
    assert "It was last reviewed on 4 March 2027" in _text(page)

    app_clock.london(date(2027, 5, 6), 9)
    sign_in(admin)
    submit(client, "/accessibility/edit", {"body": "Fully compliant now."})
    versions = pages.versions("accessibility")
    assert [(v.sequence, v.published_by.name) for v in versions] == [
        (2, "Ada Admin"),
        (1, "Ada Admin"),
    ]
    assert versions[1].body.startswith("This statement applies to the Charnwood")
    edit = _text(client.get("/accessibility/edit").text)
    assert "Version 1, published by Ada Admin on 4 March 2027, 11:00" in edit
    assert "Version 2, published by Ada Admin on 6 May 2027, 09:00" in edit
    details = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "public_page_published")
    ).all()
    assert details == ["accessibility: version 1", "accessibility: version 2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Enter the text of the privacy notice"),
        ("## Who we are\n\nThe council.", "Keep the line [How long we keep it]"),
        (
            "We keep records for 10 years.\n\n[How long we keep it]",
            "Remove “10 years”: the notice states how long information is kept",
        ),
    ],
)
def test_a_privacy_notice_that_could_state_a_false_period_is_refused_keeping_the_text(
    client, sign_in, admin, body, message
):
    sign_in(admin)
    response = submit(client, "/privacy/edit", {"body": body})
    assert response.status_code == 200
    assert message in response.text
    assert 'class="govuk-error-message"' in response.text
    if body:
        assert body.split("\n")[0] in response.text
    assert pages.versions("privacy") == []


def test_a_publish_from_an_older_page_is_refused_keeping_the_text(
    client, sign_in, admin, make_user
):
    sign_in(admin)
    page = client.get("/accessibility/edit")
    pages.publish("accessibility", "Bo's version.", by=make_user(Role.ADMIN, name="Bo"))
    db.session.commit()
    response = client.post(
        "/accessibility/edit",
        data={"csrf_token": csrf_token_from(page.text), "body": "Ada's version.", "version": "0"},
    )
    assert response.status_code == 409
    assert "Bo saved changes" in _text(response.text)
    assert "Ada&#39;s version." in response.text
    assert [v.body for v in pages.versions("accessibility")] == ["Bo's version."]


def test_only_admins_edit_the_pages(client, sign_in, coordinator):
    sign_in(coordinator)
    assert client.get("/privacy/edit").status_code == 403
    assert "Edit the privacy notice" not in client.get("/privacy").text


def test_simple_formatting():
    found = pages.blocks(
        "## Heading\nFirst line\nsecond line\n\n- one\n  carried on\n- two\n\n### Small\n"
        "[How long we keep it]\nAfter"
    )
    assert [(b.kind, b.lines) for b in found] == [
        ("h2", ["Heading"]),
        ("p", ["First line", "second line"]),
        ("ul", ["one carried on", "two"]),
        ("h3", ["Small"]),
        ("retention", []),
        ("p", ["After"]),
    ]
    assert str(pages.linked("a <b> https://x.example/a?b=1&c=2.")) == (
        'a &lt;b&gt; <a class="govuk-link" href="https://x.example/a?b=1&amp;c=2">'
        "https://x.example/a?b=1&amp;c=2</a>."
    )


@given(st.text())
def test_no_text_an_admin_types_becomes_markup(text):
    """Whatever is typed, the only tags on the page are the links made from addresses."""
    shown = "".join(str(pages.linked(line)) for block in pages.blocks(text) for line in block.lines)
    without_links = re.sub(r'<a class="govuk-link" href="[^"<>]*">|</a>', "", shown)
    assert "<" not in without_links and ">" not in without_links
