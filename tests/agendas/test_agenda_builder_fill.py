"""Issue 14 point 1: the builder fills the agenda with what is due in one press, and adds
several ticked cases at once, each once with its kind chosen in its row (seed 004: up to 10
new cases and 30 reviews a meeting; the lead professional reports back at the next)."""

import re
from datetime import date

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from maf.agendas import services
from maf.agendas.models import ItemKind
from maf.cases.models import CaseStatus
from maf.extensions import db
from maf.submissions import AlreadySaved, new_form_token

NEW, REVIEW, SIGN_OFF = ItemKind.NEW_CASE, ItemKind.REVIEW, ItemKind.SIGN_OFF


def _open(case, next_review_on=None):
    """A case already discussed at a forum: open, its review due on `next_review_on`."""
    case.status, case.next_review_on = CaseStatus.OPEN, next_review_on
    db.session.commit()
    return case


def _on_agenda(meeting) -> list[tuple[str, ItemKind]]:
    return [(i.case.child.given_name, i.kind) for i in services.scheduled_items(meeting)]


@pytest.fixture
def small_forum(make_forum):
    return make_forum(new_case_capacity=2, review_capacity=2)


@pytest.fixture
def due_and_ready(small_forum, make_meeting, make_case, make_ready_case):
    """Three ready cases made newest assessment first; three reviews due by 12 January 2027
    (one without consent to share), one not due yet."""
    meeting = make_meeting(date(2027, 1, 12), forum=small_forum)
    ready = {
        name: make_ready_case(
            name, family, born, postcode, assessment_completed_on=date(2026, 11, day)
        )
        for name, family, born, postcode, day in (
            ("Cara", "Fox", date(2013, 3, 3), "LE11 3CC", 20),
            ("Amy", "Lee", date(2013, 1, 1), "LE11 1AA", 2),
            ("Ben", "Ward", date(2013, 2, 2), "LE11 2BB", 9),
        )
    }
    reviews = {
        "Dan": _open(make_ready_case("Dan", "Ng", date(2012, 4, 4), "LE12 4DD"), date(2027, 1, 5)),
        "Eve": _open(
            make_ready_case("Eve", "Ray", date(2012, 5, 5), "LE12 5EE"), date(2026, 12, 1)
        ),
        "Fay": _open(make_ready_case("Fay", "Orr", date(2012, 6, 6), "LE12 6FF"), date(2027, 1, 9)),
        "Gus": _open(
            make_case("Gus", "Hale", date(2012, 7, 7), "LE12 7GG", share_with_forum=False),
            date(2026, 12, 20),
        ),
        "Hal": _open(
            make_ready_case("Hal", "Moss", date(2012, 8, 8), "LE12 8HH"), date(2027, 3, 1)
        ),
    }
    return meeting, ready, reviews


def test_fill_adds_the_most_overdue_reviews_and_the_oldest_ready_cases_up_to_capacity(
    due_and_ready, coordinator
):
    meeting, ready, reviews = due_and_ready
    added = services.fill_with_due(meeting, coordinator)
    # New cases first, oldest assessment first; then reviews, most overdue first.
    assert _on_agenda(meeting) == [("Amy", NEW), ("Ben", NEW), ("Eve", REVIEW), ("Dan", REVIEW)]
    cara, fay, gus = ready["Cara"], reviews["Fay"], reviews["Gus"]
    assert added.summary == (
        f"Added 2 new cases and 2 reviews; "
        f"1 ready case did not fit: Cara Fox (case {cara.id}); "
        f"1 review could not be added (no consent in force to share it with the forum "
        f"members): Gus Hale (case {gus.id}); "
        f"1 review did not fit: Fay Orr (case {fay.id})."
    )
    amy_item = services.scheduled_items(meeting)[0]
    assert (amy_item.presenter_name, amy_item.presenter_email) == (
        "Daniel Kowalski",
        "pastoral.lead@example.org",
    )  # the referrer presents, as when a case is added by hand
    assert ready["Amy"].status == CaseStatus.ON_AGENDA
    assert cara.status == CaseStatus.READY_FOR_FORUM


def test_fill_sent_again_or_pressed_again_adds_nothing_twice(due_and_ready, coordinator):
    meeting, _, _ = due_and_ready
    token = new_form_token()
    services.fill_with_due(meeting, coordinator, once=token)
    before = _on_agenda(meeting)
    with pytest.raises(AlreadySaved):
        services.fill_with_due(meeting, coordinator, once=token)
    db.session.rollback()
    again = services.fill_with_due(meeting, coordinator, once=new_form_token())
    assert again.items == []
    assert again.summary.startswith("Nothing was added; ")
    assert _on_agenda(meeting) == before


def test_a_case_due_and_discussed_last_time_goes_on_once(
    make_forum, make_meeting, make_ready_case, coordinator
):
    """A case is proposed for two reasons (due by this meeting, and discussed at the previous
    one): it is one item, and it is then listed nowhere else on the builder."""
    forum = make_forum()
    previous = make_meeting(date(2026, 10, 13), forum=forum)
    meeting = make_meeting(date(2027, 1, 12), forum=forum)
    amy = make_ready_case("Amy", "Lee")
    services.add_to_agenda(previous, amy, NEW, coordinator)
    _open(amy, date(2027, 1, 5))
    (proposal,) = services.review_proposals(meeting)
    assert len(proposal.reasons) == 2
    services.fill_with_due(meeting, coordinator)
    assert _on_agenda(meeting) == [("Amy", REVIEW)]
    assert services.review_proposals(meeting) == []
    assert amy not in services.sign_off_candidates(meeting)


def test_adding_several_takes_each_kind_chosen_and_adds_the_rest_when_one_is_refused(
    make_meeting, make_case, make_ready_case, coordinator
):
    meeting = make_meeting(date(2027, 1, 12))
    amy = make_ready_case("Amy", "Lee")
    unchecked = make_case("Ben", "Ward", date(2013, 2, 2), "LE11 2BB")
    cara = _open(make_ready_case("Cara", "Fox", date(2012, 3, 3), "LE11 3CC"))
    dan = _open(make_ready_case("Dan", "Ng", date(2012, 4, 4), "LE12 4DD"))
    added = services.add_several(
        meeting,
        [
            services.Choice(amy, NEW, "Zoë Brennan", "zoe@example.org"),
            services.Choice(unchecked, NEW),
            services.Choice(cara, SIGN_OFF),
            services.Choice(dan, REVIEW),
        ],
        coordinator,
    )
    assert _on_agenda(meeting) == [("Amy", NEW), ("Cara", SIGN_OFF), ("Dan", REVIEW)]
    assert services.scheduled_items(meeting)[0].presenter_name == "Zoë Brennan"
    (refusal,) = added.refused
    assert refusal.case == unchecked
    assert refusal.message.startswith("Only a case that is ready for a forum")
    assert added.summary.startswith("Added 1 new case, 1 review and 1 sign-off; ")


# --- the page, without JavaScript -----------------------------------------------------------


def _builder(client, meeting):
    return client.get(f"/meetings/{meeting.id}/agenda/build")


def _add_selected_form(html: str, meeting) -> dict:
    """The "Add selected to the agenda" form's fields as the page drew them (ticks and radio
    choices as drawn), as a browser without JavaScript would send them."""
    action = f"/meetings/{meeting.id}/agenda/selected"
    (form,) = [f for f in lxml.html.fromstring(html).forms if f.get("action") == action]
    return dict(form.form_values())


def test_ticking_several_cases_adds_them_in_one_submit_with_the_kind_chosen_in_each_row(
    client, sign_in, coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting(date(2027, 1, 12))
    amy = make_ready_case("Amy", "Lee")
    cara = _open(make_ready_case("Cara", "Fox", date(2012, 3, 3), "LE11 3CC"), date(2027, 1, 5))
    dan = _open(make_ready_case("Dan", "Ng", date(2012, 4, 4), "LE12 4DD"), date(2027, 1, 6))
    sign_in(coordinator)
    page = _builder(client, meeting).text
    fields = _add_selected_form(page, meeting)
    # Each review row offers review (chosen) or sign-off.
    assert fields[f"kind-{cara.id}"] == "review" and fields[f"kind-{dan.id}"] == "review"
    assert fields[f"presenter-{amy.id}"] == "Daniel Kowalski"
    data = [*fields.items(), ("case", amy.id), ("case", cara.id), ("case", dan.id)]
    data = [(k, v) for k, v in data if k != f"kind-{dan.id}"] + [(f"kind-{dan.id}", "sign_off")]
    answer = client.post(
        f"/meetings/{meeting.id}/agenda/selected", data=MultiDict(data), follow_redirects=True
    )
    assert "Added 1 new case, 1 review and 1 sign-off." in answer.text
    assert _on_agenda(meeting) == [("Amy", NEW), ("Cara", REVIEW), ("Dan", SIGN_OFF)]
    agenda = lxml.html.fromstring(answer.text).get_element_by_id("agenda").text_content()
    assert "Sign-off (closure)" in agenda and "Dan Ng" in agenda


def test_a_case_that_cannot_be_added_is_named_beside_its_tick_which_stays_ticked(
    client, sign_in, coordinator, make_meeting, make_forum, make_ready_case
):
    meeting = make_meeting(forum=make_forum(new_case_capacity=1))
    amy = make_ready_case("Amy", "Lee")
    ben = make_ready_case("Ben", "Ward", date(2013, 2, 2), "LE11 2BB")
    cara = _open(make_ready_case("Cara", "Fox", date(2012, 3, 3), "LE11 3CC"), date(2027, 1, 5))
    sign_in(coordinator)
    fields = _add_selected_form(_builder(client, meeting).text, meeting)
    data = [*fields.items(), ("case", amy.id), ("case", ben.id), ("case", cara.id)]
    answer = client.post(f"/meetings/{meeting.id}/agenda/selected", data=MultiDict(data))
    assert answer.status_code == 409
    # The others are added; Ben, who did not fit, is named beside his tick, still ticked.
    assert _on_agenda(meeting) == [("Amy", NEW), ("Cara", REVIEW)]
    text = re.sub(r"\s+", " ", answer.text)
    assert "Some cases could not be added" in text
    assert f"Added 1 new case and 1 review; 1 ready case did not fit: Ben Ward (case {ben.id})" in (
        text
    )
    assert f'<a href="#case-{ben.id}">This meeting already has 1 new case' in text
    page = lxml.html.fromstring(answer.text)
    tick = page.get_element_by_id(f"case-{ben.id}")
    assert tick.checked
    error = page.get_element_by_id(f"case-{ben.id}-error").text_content()
    assert "Error: This meeting already has 1 new case, the forum's limit" in " ".join(
        error.split()
    )
    assert f"case-{ben.id}-error" in tick.get("aria-describedby")


def test_a_mistyped_presenter_email_adds_nothing_and_keeps_every_tick_and_word(
    client, sign_in, coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting(date(2027, 1, 12))
    amy = make_ready_case("Amy", "Lee")
    cara = _open(make_ready_case("Cara", "Fox", date(2012, 3, 3), "LE11 3CC"), date(2027, 1, 5))
    sign_in(coordinator)
    fields = _add_selected_form(_builder(client, meeting).text, meeting)
    fields |= {f"presenter-{amy.id}": "Zoë Brennan", f"presenter-email-{amy.id}": "zoe@"}
    data = [*fields.items(), ("case", amy.id), ("case", cara.id)]
    answer = client.post(f"/meetings/{meeting.id}/agenda/selected", data=MultiDict(data))
    assert answer.status_code == 400
    assert _on_agenda(meeting) == []
    page = lxml.html.fromstring(answer.text)
    assert f'href="#presenter-email-{amy.id}"' in answer.text
    assert "Enter the presenter's email address like name@example.org" in (
        page.get_element_by_id(f"presenter-email-{amy.id}-error").text_content()
    )
    assert page.get_element_by_id(f"case-{amy.id}").checked
    assert page.get_element_by_id(f"case-{cara.id}").checked
    assert page.get_element_by_id(f"presenter-{amy.id}").value == "Zoë Brennan"
    assert page.get_element_by_id(f"presenter-email-{amy.id}").value == "zoe@"


def test_nothing_ticked_asks_for_a_selection(
    client, sign_in, coordinator, make_meeting, make_ready_case
):
    meeting = make_meeting(date(2027, 1, 12))
    make_ready_case("Amy", "Lee")
    sign_in(coordinator)
    fields = _add_selected_form(_builder(client, meeting).text, meeting)
    answer = client.post(f"/meetings/{meeting.id}/agenda/selected", data=fields)
    assert answer.status_code == 400
    assert 'href="#candidates">Select the cases to add to the agenda' in answer.text


def test_the_fill_button_says_what_it_added_and_a_repeat_of_it_adds_nothing(
    client, sign_in, coordinator, due_and_ready
):
    meeting, _, _ = due_and_ready
    sign_in(coordinator)
    page = _builder(client, meeting).text
    action = f"/meetings/{meeting.id}/agenda/fill"
    (form,) = [f for f in lxml.html.fromstring(page).forms if f.get("action") == action]
    data = dict(form.form_values())
    first = client.post(action, data=MultiDict(data), follow_redirects=True)
    assert "Added 2 new cases and 2 reviews; " in first.text
    second = client.post(action, data=MultiDict(data), follow_redirects=True)
    assert "This was already saved" in second.text
    assert len(services.scheduled_items(meeting)) == 4
    assert "Agenda (4 items)" in second.text


def test_another_districts_case_sent_in_a_selection_is_refused_without_its_name(
    client, sign_in, coordinator, make_meeting, make_ready_case, make_district, make_user
):
    """A tick for a case the page never offered (another district's id typed into the post)
    adds nothing of it and does not read its child's name back; the rest is added."""
    from maf.auth.models import Role

    meeting = make_meeting(date(2027, 1, 12))
    amy = make_ready_case("Amy", "Lee")
    melton = make_district("Melton")
    theirs = make_user(Role.COORDINATOR, name="Sam Okoro", districts=[melton])
    other = make_ready_case("Zara", "Quinn", date(2013, 4, 4), "LE13 1ZZ", district=melton)
    assert other.district_id == melton.id and theirs.districts == [melton]
    sign_in(coordinator)
    fields = _add_selected_form(_builder(client, meeting).text, meeting)
    data = [
        *fields.items(),
        ("case", amy.id),
        ("case", other.id),
        (f"kind-{other.id}", "new_case"),
    ]
    answer = client.post(f"/meetings/{meeting.id}/agenda/selected", data=MultiDict(data))
    assert answer.status_code == 409
    assert _on_agenda(meeting) == [("Amy", NEW)]
    shown = " ".join(lxml.html.fromstring(answer.text).text_content().split())
    assert "This case cannot be added to this forum's agenda: it is not one of the district's" in (
        shown
    )
    assert "Zara" not in answer.text and "Quinn" not in answer.text
