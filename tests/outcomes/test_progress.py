"""The lead professional's progress update (seed 004: the forum agrees a lead professional, and
"the LP reports progress at the next meeting"), with the outcomes questionnaire for children
and young people (seed 004 Appendix 3: seven questions, each Great / Good / OK / Not good)."""

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.circulation.models import OutboxMessage
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import MeetingStatus
from maf.outcomes import progress, services
from maf.outcomes.models import (
    Action,
    ActionProgressStatus,
    ActionStatus,
    LeadKind,
    Outcome,
    ProgressAnswer,
    ProgressUpdate,
)
from tests.conftest import PASSWORD, at_the_meeting, csrf_token_from, submit

LP_EMAIL = "zoe.brennan@example.org"


@pytest.fixture
def lead_user(make_user):
    return make_user(Role.PRACTITIONER, email=LP_EMAIL, name="Zoë Brennan")


@pytest.fixture
def forum(make_forum):
    return make_forum()


@pytest.fixture
def first_meeting(make_meeting, forum):
    return make_meeting(date(2027, 1, 12), forum=forum)


@pytest.fixture
def second_meeting(make_meeting, forum):
    return make_meeting(date(2027, 4, 6), forum=forum)


@pytest.fixture
def case(make_ready_case, coordinator, lead_user, first_meeting, second_meeting):
    """Discussed at the first meeting (an LP and two actions agreed), reviewed at the second."""
    case = make_ready_case()
    item = agendas.add_to_agenda(first_meeting, case, ItemKind.NEW_CASE, coordinator)
    services.save_item_record(
        item,
        services.ItemDetails(
            outcome=Outcome.CONTINUE,
            next_review_on=second_meeting.date,
            lead=services.LeadDetails(
                kind=LeadKind.PRACTITIONER, name="Zoë Brennan", agreed=True, email=LP_EMAIL
            ),
            actions=[
                services.ActionDetails(
                    "Refer to the school nurse", "Zoë Brennan", date(2027, 2, 1)
                ),
                services.ActionDetails("Book a parenting course", "Paul Dennis", date(2027, 3, 1)),
            ],
        ),
        coordinator,
    )
    at_the_meeting(first_meeting)
    services.complete_meeting(first_meeting, coordinator)
    agendas.add_to_agenda(second_meeting, case, ItemKind.REVIEW, coordinator)
    return case


@pytest.fixture
def requested(case, second_meeting, coordinator):
    progress.request_updates(second_meeting, coordinator)
    return progress.update_for(case, second_meeting)


def _actions(case):
    return list(
        db.session.scalars(select(Action).where(Action.case_id == case.id).order_by(Action.id))
    )


def _url(update):
    return f"/progress/{update.id}"


def _form_data(case, **overrides):
    """A complete form: the first action done, the second in progress, every question answered;
    an override of None leaves that field out."""
    nurse, course = _actions(case)
    data = {
        f"action_{nurse.id}": "done",
        f"action_{nurse.id}_note": "Seen by the nurse on 3 February",
        f"action_{course.id}": "in_progress",
        f"action_{course.id}_note": "Appointment booked for March",
        "summary": "Attendance is up to 92% and Jessica is sleeping better.",
        "further_comments": "Jessica would like to join the football club.",
    }
    for number, answer in zip(
        range(1, 8), ("great", "good", "ok", "not_good", "good", "ok", "great"), strict=True
    ):
        data[f"question_{number}"] = answer
        data[f"question_{number}_comment"] = ""
    data["question_4_comment"] = "Falls out with friends at lunchtime"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _client_for(app, user):
    client = app.test_client()
    submit(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    return client


# --- asking -------------------------------------------------------------------------------


def test_the_questionnaire_is_the_seeds_seven_questions():
    """Seed 004 Appendix 3."""
    assert len(progress.QUESTIONS) == 7
    assert progress.QUESTIONS[0] == "Do you think you are getting on well?"
    assert progress.QUESTIONS[6] == "How do you feel about your future?"
    assert [answer.label for answer in ProgressAnswer] == ["Great", "Good", "OK", "Not good"]


def test_the_lead_professional_is_asked_once_by_email_without_the_childs_name(
    app, case, second_meeting, coordinator, make_ready_case
):
    """The LP reports progress at the next meeting (seed 004): they are asked before it."""
    # A new case on the same agenda has no LP yet: nobody to ask.
    agendas.add_to_agenda(
        second_meeting, make_ready_case("Amy", "Lee"), ItemKind.NEW_CASE, coordinator
    )

    assert progress.request_updates(second_meeting, coordinator) == 1

    update = progress.update_for(case, second_meeting)
    assert update.lead_professional.email == LP_EMAIL and update.submitted_at is None
    (message,) = db.session.scalars(select(OutboxMessage))
    assert message.recipient_email == LP_EMAIL
    assert message.dedupe_key == f"progress:{case.id}:{second_meeting.id}"
    assert message.meeting_id == second_meeting.id
    link = app.config["BASE_URL"].rstrip("/") + f"/progress/{update.id}"
    assert link in message.text_body and link in message.html_body
    assert f"reference Case {case.id}" in message.text_body
    for text in (message.subject, message.text_body, message.html_body):
        for personal in ("Jessica", "Thompson", "LE11", "2012"):
            assert personal not in text

    assert progress.request_updates(second_meeting, coordinator) == 0
    assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_parent_leading_the_case_gets_an_update_for_the_coordinator_but_no_email(
    case, second_meeting, coordinator
):
    """Seed 003 §3.8: a parent or carer can be LP; they have no account to open the form."""
    lead = services.current_lead(case)
    lead.kind = LeadKind.PARENT_CARER
    db.session.commit()
    assert progress.request_updates(second_meeting, coordinator) == 0
    assert progress.update_for(case, second_meeting) is not None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_no_update_is_asked_for_a_meeting_already_held(case, second_meeting, coordinator):
    forums.change_meeting_status(second_meeting, MeetingStatus.HELD, coordinator)
    db.session.commit()
    with pytest.raises(progress.ProgressError):
        progress.request_updates(second_meeting, coordinator)


# --- who may open the form ------------------------------------------------------------------


def test_the_lead_professional_opens_the_form_and_another_practitioner_gets_404(
    app, client, sign_in, requested, lead_user, make_user
):
    sign_in(lead_user)
    page = client.get(_url(requested))
    assert page.status_code == 200
    assert f"Case {requested.case_id}: Jessica Thompson" in page.text
    assert "Refer to the school nurse" in page.text and "Book a parenting course" in page.text
    for question in progress.QUESTIONS:
        assert question in html.unescape(page.text)
    assert "govuk-radios--inline" in page.text
    assert db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "view", AuditEvent.object_id == str(requested.case_id))
    )

    stranger = make_user(Role.PRACTITIONER, email="someone.else@example.org")
    assert _client_for(app, stranger).get(_url(requested)).status_code == 404
    denied = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "permission_denied")
        .order_by(AuditEvent.id.desc())
    )
    assert denied.user_id == stranger.id and f"progress update {requested.id}" in denied.detail


def test_an_lp_recorded_before_their_account_existed_is_known_by_email(
    client, sign_in, requested, lead_user, case
):
    requested.lead_professional.user_id = None
    db.session.commit()
    sign_in(lead_user)
    page = client.get(_url(requested)).text
    assert f"Case {requested.case_id}: Jessica Thompson" in page
    assert "Refer to the school nurse" in page and "Book a parenting course" in page

    assert submit(client, _url(requested), _form_data(case)).status_code == 302
    db.session.expire_all()
    update = progress.update_for(case, requested.meeting)
    assert update.submitted_by_id == lead_user.id and update.submitted_at is not None


def test_signed_out_visitors_are_sent_to_sign_in(client, requested):
    response = client.get(_url(requested))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- sending the update ---------------------------------------------------------------------


def test_a_missing_answer_is_shown_beside_its_question_and_nothing_typed_is_lost(
    client, sign_in, requested, lead_user, case
):
    sign_in(lead_user)
    response = submit(client, _url(requested), _form_data(case, question_3=None))

    assert response.status_code == 200
    page = response.text
    assert "There is a problem" in page
    assert 'href="#question_3"' in page  # the error summary links to the question
    message = "Select how the child or young person answered question 3"
    error_at = page.index('id="question_3-error"')
    assert message in page[error_at : error_at + 300]
    assert "Appointment booked for March" in page
    assert "Falls out with friends at lunchtime" in page
    assert "Attendance is up to 92%" in page
    assert 'value="not_good" checked' in page  # question 4's answer kept
    db.session.expire_all()
    assert progress.update_for(case, requested.meeting).submitted_at is None
    assert all(action.status == ActionStatus.OPEN for action in _actions(case))


def test_sending_saves_the_answers_and_marks_the_done_action_done(
    client, sign_in, requested, lead_user, case
):
    sign_in(lead_user)
    response = submit(client, _url(requested), _form_data(case))
    assert response.status_code == 302

    db.session.expire_all()
    update = progress.update_for(case, requested.meeting)
    assert update.submitted_by_id == lead_user.id and update.submitted_at is not None
    assert update.summary.startswith("Attendance is up to 92%")
    assert update.further_comments == "Jessica would like to join the football club."
    assert [(row.question, row.answer) for row in update.answers] == [
        (1, ProgressAnswer.GREAT),
        (2, ProgressAnswer.GOOD),
        (3, ProgressAnswer.OK),
        (4, ProgressAnswer.NOT_GOOD),
        (5, ProgressAnswer.GOOD),
        (6, ProgressAnswer.OK),
        (7, ProgressAnswer.GREAT),
    ]
    assert update.answers[3].comment == "Falls out with friends at lunchtime"
    nurse, course = _actions(case)
    assert [(row.action_id, row.status) for row in update.action_progress] == [
        (nurse.id, ActionProgressStatus.DONE),
        (course.id, ActionProgressStatus.IN_PROGRESS),
    ]
    assert nurse.status == ActionStatus.DONE
    assert nurse.done_by_id == lead_user.id and nurse.done_at is not None
    assert course.status == ActionStatus.OPEN and course.done_at is None
    audited = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == lead_user.id))
    )
    assert {"action_done", "progress_submitted"} <= audited

    # The helpers for the review item and the case page.
    assert progress.latest_update(case).id == update.id
    answered = progress.latest_answers(case)
    assert [(q.number, q.answer) for q in answered][:2] == [
        (1, ProgressAnswer.GREAT),
        (2, ProgressAnswer.GOOD),
    ]
    assert answered[4].question == progress.QUESTIONS[4]


def test_the_update_can_be_changed_until_the_meeting_is_held(
    client, sign_in, requested, lead_user, case, coordinator
):
    sign_in(lead_user)
    submit(client, _url(requested), _form_data(case))
    nurse, course = _actions(case)

    page = client.get(_url(requested))  # what was sent is filled in again
    assert 'value="done" checked' in page.text and "Seen by the nurse" in page.text
    response = submit(
        client,
        _url(requested),
        _form_data(case, **{f"action_{nurse.id}": "in_progress", "question_1": "ok"}),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert nurse.status == ActionStatus.OPEN and nurse.done_by_id is None  # taken back
    update = progress.update_for(case, requested.meeting)
    assert update.answers[0].answer == ProgressAnswer.OK and len(update.answers) == 7

    forums.change_meeting_status(requested.meeting, MeetingStatus.HELD, coordinator)
    db.session.commit()
    page = client.get(_url(requested))
    assert page.status_code == 200 and "can no longer be changed" in page.text
    assert 'name="summary"' not in page.text
    shown = html.unescape(page.text)  # what was sent, read-only
    assert "4. How do you get along with children and young people?" in shown
    assert "Not good: Falls out with friends at lunchtime" in shown
    assert "In progress: Seen by the nurse on 3 February" in shown
    refused = client.post(
        _url(requested), data={**_form_data(case), "csrf_token": csrf_token_from(page.text)}
    )
    assert refused.status_code == 302
    db.session.expire_all()
    assert progress.update_for(case, requested.meeting).answers[0].answer == ProgressAnswer.OK


# --- the coordinator ------------------------------------------------------------------------


def test_the_coordinator_can_open_the_form_and_ask_for_updates(
    client, sign_in, coordinator, case, second_meeting
):
    sign_in(coordinator)
    build = f"/meetings/{second_meeting.id}/agenda/build"
    response = submit(client, build, {}, action=f"/meetings/{second_meeting.id}/progress-requests")
    assert response.status_code == 302 and response.headers["Location"].endswith(build)
    assert "Asked 1 lead professional for a progress update." in client.get(build).text

    update = progress.update_for(case, second_meeting)
    assert update is not None
    assert client.get(_url(update)).status_code == 200


def test_only_coordinators_of_the_district_press_the_button(
    app, second_meeting, case, lead_user, make_user, make_district
):
    practitioner = _client_for(app, lead_user)
    page = practitioner.get("/")
    url = f"/meetings/{second_meeting.id}/progress-requests"
    token = csrf_token_from(page.text)
    assert practitioner.post(url, data={"csrf_token": token}).status_code == 403

    elsewhere = make_user(Role.COORDINATOR, districts=[make_district("Melton")])
    other = _client_for(app, elsewhere)
    token = csrf_token_from(other.get("/").text)
    assert other.post(url, data={"csrf_token": token}).status_code == 404
    assert progress.update_for(case, second_meeting) is None


# --- "Not asked" (issue 14 point 5) -----------------------------------------------------------


def test_each_question_offers_not_asked_and_none_is_chosen_before_the_lp_chooses(
    client, sign_in, requested, lead_user
):
    """Seed 004 Appendix 3: Great / Good / OK / Not good, and Not asked when the question was
    not put to the child: an answer is never assumed."""
    sign_in(lead_user)
    page = client.get(_url(requested)).text
    for number in range(1, 8):
        assert f'name="question_{number}" type="radio" value="not_asked"' in page
    assert page.count('value="not_asked"') == 7
    assert "checked" not in page, "no answer and no action status is chosen for the LP"


def test_questions_not_asked_store_no_answer_and_read_not_asked_everywhere(
    client, sign_in, requested, lead_user, case, coordinator
):
    sign_in(lead_user)
    data = _form_data(case, question_2="not_asked", question_5="not_asked")
    response = submit(client, _url(requested), data)
    assert response.status_code == 302, response.text

    db.session.expire_all()
    update = progress.update_for(case, requested.meeting)
    assert [row.question for row in update.answers] == [1, 3, 4, 6, 7]
    assert [(q.number, q.answer_text) for q in progress.latest_answers(case)][:3] == [
        (1, "Great"),
        (2, "Not asked"),
        (3, "OK"),
    ]
    page = client.get(_url(requested)).text  # opened again: Not asked is still chosen
    assert page.count('value="not_asked" checked') == 2

    forums.change_meeting_status(requested.meeting, MeetingStatus.HELD, coordinator)
    db.session.commit()
    shown = html.unescape(client.get(_url(requested)).text)
    assert "2. How are you getting on with your family?" in shown
    assert shown.count("Not asked") == 2


def test_a_comment_on_a_question_not_asked_is_refused_beside_the_comment(
    client, sign_in, requested, lead_user, case
):
    sign_in(lead_user)
    data = _form_data(case, question_3="not_asked", question_3_comment="Didn't want to say")
    response = submit(client, _url(requested), data)
    assert response.status_code == 200
    error_at = response.text.index('id="question_3_comment-error"')
    assert "Question 3 was not asked" in response.text[error_at : error_at + 300]
    assert "Didn&#39;t want to say" in response.text, "what was typed is kept"
    db.session.expire_all()
    assert progress.update_for(case, requested.meeting).submitted_at is None


def test_an_answer_sent_before_and_now_not_asked_is_removed(
    client, sign_in, requested, lead_user, case
):
    sign_in(lead_user)
    submit(client, _url(requested), _form_data(case))
    response = submit(client, _url(requested), _form_data(case, question_1="not_asked"))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    update = progress.update_for(case, requested.meeting)
    assert [row.question for row in update.answers] == [2, 3, 4, 5, 6, 7]


def test_the_outcomes_figures_do_not_count_a_question_not_asked(
    client, sign_in, requested, lead_user, case, first_meeting
):
    """The distance travelled (seed 004 Appendix 3) compares answers given both times: a
    question not asked the second time is no change, not a fall to nothing."""
    from datetime import datetime

    from maf.dbtypes import LONDON
    from maf.outcomes.models import QuestionnaireAnswer
    from maf.reports import quality

    db.session.add(
        ProgressUpdate(
            case_id=case.id,
            meeting_id=first_meeting.id,
            lead_professional_id=requested.lead_professional_id,
            submitted_at=datetime(2027, 1, 5, 10, 0, tzinfo=LONDON),
            summary="Before the first meeting",
            answers=[
                QuestionnaireAnswer(question=number, answer=ProgressAnswer.NOT_GOOD)
                for number in range(1, 8)
            ],
        )
    )
    db.session.commit()
    sign_in(lead_user)
    answers = {f"question_{n}": "good" for n in range(1, 8)} | {"question_1": "not_asked"}
    submit(client, _url(requested), _form_data(case, **answers, question_4_comment=""))

    distance = quality.distance_travelled(case)
    assert distance.changes == {n: 2 for n in range(2, 8)}, "question 1 was not asked"
    assert distance.total_change == 12
