"""A coordinator circulates an agenda and sees the delivery log; the file sink used by
`make run` leaves readable .eml files."""

import email
from datetime import date
from email import policy
from pathlib import Path

from playwright.sync_api import expect

from maf.agendas.models import ItemKind
from maf.agendas.services import add_to_agenda
from maf.circulation.outbox import send_pending
from maf.forums.models import MemberRole
from maf.forums.services import add_member


def test_circulate_and_see_the_delivery_log(
    app, page, coordinator, make_meeting, make_ready_case, make_agency, sign_in_as, axe_violations
):
    meeting = make_meeting(date(2027, 1, 12))
    add_member(
        meeting.forum,
        name="Zoë Brennan",
        email="zoe@example.org",
        agency=make_agency(name="School Nursing"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    add_to_agenda(
        meeting,
        make_ready_case("Amy", "Lee"),
        ItemKind.NEW_CASE,
        coordinator,
        "Dan Kowalski",
        "dan@example.org",
    )
    outbox_dir = Path(app.instance_path) / "outbox"
    before = set(outbox_dir.glob("*.eml")) if outbox_dir.exists() else set()

    sign_in_as(coordinator)
    page.goto(f"/meetings/{meeting.id}/agenda/build")
    page.get_by_role("button", name="Circulate the agenda").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Emails for Tuesday 12 January 2027"
    )
    assert "3 emails queued for 3 people" in page.inner_text("main")
    log = page.get_by_role("table", name="Who was sent what, and when")
    assert log.inner_text().count("Waiting to be sent") == 3
    assert axe_violations() == []

    report = send_pending(worker="browser-test")
    assert report.sent == 3
    page.reload()
    assert (
        page.get_by_role("table", name="Who was sent what, and when").inner_text().count("Sent")
        == 3
    )

    written = sorted(set(outbox_dir.glob("*.eml")) - before)
    assert len(written) == 3
    recipients = set()
    for path in written:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        recipients.add(message["To"].addresses[0].addr_spec)
        calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert calendar_part.get_param("method") == "REQUEST"
        assert "Amy" not in message["Subject"]
    assert recipients == {"zoe@example.org", "dan@example.org", meeting.forum.chair.email}
