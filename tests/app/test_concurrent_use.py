"""Several people using the service at once, on real commits (issue 8: "25 concurrent users show
no errors and no lost writes"; `make load` measures it, this test holds it in the suite).

On SQLite a page read is also a write (the audit row of the read), and a transaction that has
read cannot write once someone else has: without care, busy pages fail with SQLITE_BUSY."""

import threading

from sqlalchemy import func, select

from maf.audit.models import AuditEvent
from maf.cases.models import Consent
from maf.extensions import db
from tests.agendas.test_capacity_concurrency import _build_last_slot_scenario
from tests.conftest import PASSWORD, IsolatedClient, csrf_token_from, submit

READERS, WRITERS, ROUNDS = 4, 2, 12
CONSENT = {
    "kind": "record",
    "given": "given",
    "given_by": "parent_carer",
    "given_by_name": "Karen Thompson",
    "given_on": ["2", "11", "2026"],
    "method": "written",
}


def test_people_reading_and_saving_at_once_all_get_answers_and_every_save_is_kept(
    make_scratch_app,
):
    app = make_scratch_app("concurrent")
    app.test_client_class = IsolatedClient
    with app.app_context():
        ids = _build_last_slot_scenario()
        db.session.remove()
    case_page, meeting_page = f"/cases/{ids['case_a']}", f"/meetings/{ids['meeting']}/agenda"
    consent_page = f"/cases/{ids['case_b']}/consents/new"
    start = threading.Barrier(READERS + WRITERS)
    answers: list[tuple[str, int]] = []
    saved = []

    def person(email: str, writer: bool) -> None:
        client = app.test_client()
        assert submit(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code
        token = csrf_token_from(client.get("/").text)
        start.wait()
        for _ in range(ROUNDS):
            if writer:
                response = client.post(consent_page, data={**CONSENT, "csrf_token": token})
                if response.status_code == 302:
                    saved.append(1)
            else:
                response = client.get(case_page if len(answers) % 2 else meeting_page)
            answers.append((response.request.path, response.status_code))

    emails = ["priya.shah@example.org", "tom.baker@example.org"]
    people = [
        threading.Thread(target=person, args=(emails[number % 2], number < WRITERS))
        for number in range(READERS + WRITERS)
    ]
    for thread in people:
        thread.start()
    for thread in people:
        thread.join(60)

    assert len(answers) == (READERS + WRITERS) * ROUNDS
    refused = [answer for answer in answers if answer[1] not in (200, 302)]
    assert refused == [], "a page or a save failed while others were using the service"
    with app.app_context():
        consents = db.session.scalar(
            select(func.count()).select_from(Consent).where(Consent.case_id == ids["case_b"])
        )
        reads = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "view")
        )
    assert len(saved) == WRITERS * ROUNDS
    assert consents == 3 + len(saved), "every save that was answered is in the database"
    assert reads >= READERS * ROUNDS, "every page read was audited"
