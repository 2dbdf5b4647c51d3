"""The email preferences page (/account/emails) and the catalogue page (/emails)."""

import re

from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.extensions import db
from maf.notifications import services
from maf.notifications.catalogue import CATALOGUE
from tests.conftest import csrf_token_from


def _form(page: str) -> dict[str, str]:
    hidden = dict(re.findall(r'name="(shown_\w+)" type="hidden" value="(\w*)"', page))
    return {**hidden, "csrf_token": csrf_token_from(page)}


def test_the_account_page_links_to_the_choices(client, sign_in, make_user):
    sign_in(make_user(Role.PRACTITIONER))
    assert 'href="/account/emails"' in client.get("/account").text


def test_a_person_sees_the_defaults_and_the_emails_they_always_get(client, sign_in, make_user):
    sign_in(make_user(Role.PRACTITIONER))
    page = client.get("/account/emails").text
    assert "Reminders the working day before a meeting" in page
    assert "An email for each action as it falls due" in page
    assert re.search(r'value="each"[^>]*checked|checked[^>]*value="each"', page)
    always = page[page.index('id="always"') :]
    for email in CATALOGUE:
        if not email.optional:
            assert email.name in always
    assert "Meeting tomorrow" not in always


def test_choosing_the_daily_digest_and_no_meeting_reminders_is_kept_and_audited(
    client, sign_in, make_user
):
    user = make_user(Role.PRACTITIONER)
    sign_in(user)
    page = client.get("/account/emails").text
    response = client.post(
        "/account/emails",
        data={
            **_form(page),
            "meeting_reminder": "off",
            "answer_reminder": "on",
            "action_reminder": "digest",
        },
        follow_redirects=True,
    )
    assert "Your email choices are saved" in response.text
    assert re.search(r'value="digest"[^>]*checked|checked[^>]*value="digest"', response.text)
    assert not services.wants(user.email, "meeting_reminder")
    assert services.wants(user.email, "action_digest")
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "email_preferences_changed")
    )
    assert event.user_id == user.id and "action_reminder: digest" in event.detail


def test_a_missing_choice_is_said_beside_the_field_and_nothing_is_saved(client, sign_in, make_user):
    user = make_user(Role.PRACTITIONER)
    sign_in(user)
    page = client.get("/account/emails").text
    response = client.post(
        "/account/emails",
        data={**_form(page), "meeting_reminder": "off", "answer_reminder": "on"},
    )
    assert response.status_code == 200
    assert "Choose whether you want reminders about actions you own" in response.text
    assert services.wants(user.email, "meeting_reminder")


def test_a_change_in_another_window_is_not_lost(client, sign_in, make_user):
    user = make_user(Role.PRACTITIONER)
    sign_in(user)
    first_window = client.get("/account/emails").text
    second_window = client.get("/account/emails").text
    # The second window turns off meeting reminders...
    client.post(
        "/account/emails",
        data={
            **_form(second_window),
            "meeting_reminder": "off",
            "answer_reminder": "on",
            "action_reminder": "each",
        },
    )
    # ...the first, opened before, changes only the action reminders: both choices stand.
    client.post(
        "/account/emails",
        data={
            **_form(first_window),
            "meeting_reminder": "on",
            "answer_reminder": "on",
            "action_reminder": "none",
        },
    )
    assert services.choices_for(user) == {
        "meeting_reminder": "off",
        "answer_reminder": "on",
        "action_reminder": "none",
    }


def test_the_same_choice_changed_two_ways_is_refused_and_keeps_what_was_chosen(
    client, sign_in, make_user
):
    user = make_user(Role.PRACTITIONER)
    sign_in(user)
    first_window = client.get("/account/emails").text
    second_window = client.get("/account/emails").text
    choices = {"meeting_reminder": "on", "answer_reminder": "on"}
    client.post(
        "/account/emails", data={**_form(second_window), **choices, "action_reminder": "none"}
    )
    refused = client.post(
        "/account/emails", data={**_form(first_window), **choices, "action_reminder": "digest"}
    )
    assert refused.status_code == 200
    assert "You changed this in another window after opening this page, to “None”" in (refused.text)
    assert re.search(r'value="digest"[^>]*checked|checked[^>]*value="digest"', refused.text)
    assert services.choices_for(user)["action_reminder"] == "none"
    # Saving again from the refused page is deliberate, and goes through.
    client.post(
        "/account/emails", data={**_form(refused.text), **choices, "action_reminder": "digest"}
    )
    assert services.choices_for(user)["action_reminder"] == "digest"


def test_the_catalogue_lists_every_email_for_coordinators_only(
    client, sign_in, make_user, coordinator
):
    sign_in(coordinator)
    page = client.get("/emails").text
    for email in CATALOGUE:
        assert email.name in page
    assert "OFFICIAL-SENSITIVE" in page
    assert "Sent unless the person turns it off under “Reminders about actions you own”" in page
    assert "Sent only to those who choose “One daily digest" in page
    assert "No. The minutes are the forum&#39;s record of what was agreed." in page
    client.post("/sign-out", data={"csrf_token": csrf_token_from(page)})
    sign_in(make_user(Role.PRACTITIONER))
    assert client.get("/emails").status_code == 403
