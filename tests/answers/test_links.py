"""One-click answers from the email (issue 17 point 2): a signed link for one purpose, valid
until the meeting ends; opening it changes nothing (mail scanners open links), confirming
records the answer once, answering again changes it."""

import logging
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from maf.answers import services
from maf.answers.models import Answer, AnswerSource, Response
from maf.audit.models import AuditEvent
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MeetingStatus
from tests.conftest import csrf_token_from

MAYA = "maya.member@example.org"


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(("/", ""))


def _links(meeting, email=MAYA) -> dict[Response, str]:
    return {link.response: _path(link.url) for link in services.answer_links(meeting, email)}


def _answers(meeting) -> list[Answer]:
    db.session.expire_all()
    return list(db.session.scalars(select(Answer).where(Answer.meeting_id == meeting.id)))


def _confirm(client, path, **data):
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_token_from(page.text), **data})


def test_each_member_gets_three_answers_as_absolute_links(app, circulated):
    links = services.answer_links(circulated.meeting, MAYA)
    assert [link.label for link in links] == [
        "I will attend",
        "I cannot attend",
        "I am sending a deputy",
    ]
    assert all(link.url.startswith(app.config["BASE_URL"] + "/answer/") for link in links)
    # The address is not readable in the link: only a hash of it, signed.
    assert all("maya" not in link.url.lower() for link in links)


def test_opening_a_link_only_asks_to_confirm(client, circulated):
    path = _links(circulated.meeting)[Response.ATTENDING]
    page = client.get(path)
    assert page.status_code == 200
    assert "I will attend" in page.text and "Confirm: I will attend" in page.text
    assert "Charnwood multi-agency forum" in page.text and "Tuesday 6 April 2027" in page.text
    assert "Maya Member" in page.text
    assert _answers(circulated.meeting) == []  # a mail scanner's visit answers nothing


def test_confirming_records_the_answer_once_however_often_it_is_sent(client, circulated):
    path = _links(circulated.meeting)[Response.ATTENDING]
    token = csrf_token_from(client.get(path).text)
    for _ in range(2):  # a double click, or a retry of a post whose answer was lost
        assert client.post(path, data={"csrf_token": token}).status_code == 302
    (answer,) = _answers(circulated.meeting)
    assert (answer.email, answer.response, answer.source) == (
        MAYA,
        Response.ATTENDING,
        AnswerSource.LINK,
    )
    page = client.get(path)
    assert "Your answer is saved" in page.text and "Your answer: I will attend" in page.text
    assert "Confirm" not in page.text
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "meeting_answered"))
    assert len(list(audits)) == 1


def test_answering_again_changes_the_answer_and_is_audited(client, circulated):
    links = _links(circulated.meeting)
    _confirm(client, links[Response.ATTENDING])
    _confirm(client, links[Response.NOT_ATTENDING])
    (answer,) = _answers(circulated.meeting)
    assert answer.response == Response.NOT_ATTENDING
    details = list(
        db.session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "meeting_answered")
            .order_by(AuditEvent.id)
        )
    )
    assert [detail.split(": ")[1] for detail in details] == [
        "attending (link)",
        "not_attending (link)",
    ]
    assert not any("@" in detail for detail in details)


def test_a_deputy_must_be_named_beside_the_field(client, circulated):
    path = _links(circulated.meeting)[Response.DEPUTY]
    refused = _confirm(client, path, deputy_name="  ")
    assert refused.status_code == 400
    assert "Enter the name of the person coming in your place" in refused.text
    assert 'id="deputy_name-error"' in refused.text
    assert _answers(circulated.meeting) == []
    _confirm(client, path, deputy_name="Sam Okoro")
    (answer,) = _answers(circulated.meeting)
    assert (answer.response, answer.deputy_name) == (Response.DEPUTY, "Sam Okoro")
    assert "Sam Okoro comes in your place" in client.get(path).text


def _refused(client, path, status, words, caplog):
    with caplog.at_level(logging.INFO, logger="maf.answers"):
        page = client.get(path)
        token = csrf_token_from(client.get("/sign-in").text)
        posted = client.post(path, data={"csrf_token": token, "deputy_name": "Sam Okoro"})
    assert page.status_code == status and posted.status_code == status
    assert "This link cannot be used" in page.text and words in page.text
    assert "Nothing has been changed" in page.text
    assert all("@" not in record.getMessage() for record in caplog.records)
    assert any("answer link refused" in record.getMessage() for record in caplog.records)


def test_a_forged_link_is_refused_and_changes_nothing(client, circulated, caplog):
    path = _links(circulated.meeting)[Response.ATTENDING]
    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    _refused(client, forged, 400, "not complete", caplog)
    assert _answers(circulated.meeting) == []


def test_a_link_signed_for_another_purpose_is_refused(app, client, circulated, caplog):
    other = URLSafeSerializer(app.config["SECRET_KEY"], salt="password-reset")
    token = other.dumps(
        [circulated.meeting.id, services._address_hash(MAYA), Response.ATTENDING.value]
    )
    _refused(client, f"/answer/{token}", 400, "not complete", caplog)
    assert _answers(circulated.meeting) == []


def test_a_link_works_until_the_meeting_ends_and_not_a_minute_after(
    client, circulated, app_clock, caplog
):
    meeting = circulated.meeting
    path = _links(meeting)[Response.ATTENDING]
    ends = services.meeting_ends_at(meeting)  # 6 April 2027, 09:30 + 4 hours
    app_clock(ends - timedelta(minutes=1))
    assert client.get(path).status_code == 200
    app_clock(ends + timedelta(minutes=1))
    _refused(client, path, 410, "The meeting is over", caplog)
    assert _answers(meeting) == []
    assert services.answer_links(meeting, MAYA) == []  # and no email offers one


def test_a_cancelled_meetings_link_says_so(client, circulated, coordinator, caplog):
    path = _links(circulated.meeting)[Response.ATTENDING]
    forums.change_meeting_status(circulated.meeting, MeetingStatus.CANCELLED, coordinator)
    db.session.commit()
    _refused(client, path, 410, "The meeting has been cancelled", caplog)
    # whom to ask: the forum's coordinator
    assert f"ask {coordinator.name} ({coordinator.email})" in client.get(path).text
    assert _answers(circulated.meeting) == []


def test_an_address_not_invited_cannot_answer(client, circulated, caplog):
    path = _links(circulated.meeting, "someone.else@example.org")[Response.ATTENDING]
    _refused(client, path, 410, "no longer invited", caplog)
    assert _answers(circulated.meeting) == []


@pytest.mark.parametrize("response", list(Response))
def test_no_answer_page_names_the_child(client, circulated, response):
    page = client.get(_links(circulated.meeting)[response])
    assert "Jessica" not in page.text and "Thompson" not in page.text
