"""The admin's rules page: each rule with its value, default, seed and history; a change per
rule with errors beside the field, a stale save refused, and a retention change shown (a dry
run of the next nightly run) before it is saved."""

import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.extensions import db
from maf.rules import services as rules
from maf.rules.services import Interval
from tests.conftest import csrf_token_from, submit


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def signed_in_admin(admin, sign_in):
    sign_in(admin)
    return admin


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_lists_every_rule_with_its_default_and_seed(client, signed_in_admin):
    page = client.get("/rules")
    assert page.status_code == 200
    text = _text(page.text)
    for rule in rules.RULES.values():
        assert rule.label in text
        assert rule.seed in text
    assert "20 working days (Seed 002 B3" in text
    assert "Never changed" not in text  # histories are shown only where there is one


def test_an_admin_changes_a_rule_and_sees_it_and_its_history(client, admin, sign_in, app_clock):
    app_clock.london(date(2027, 2, 1), 10)
    sign_in(admin)
    response = submit(
        client,
        "/rules/review_interval",
        {"value": "6", "reason": "Families First Partnership: six-monthly reviews"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/rules#review_interval")
    assert rules.current("review_interval") == Interval(6, "months")
    text = _text(client.get("/rules").text)
    assert "Now 6 months" in text
    assert "Last changed by Ada Admin, in force from 1 February 2027, 10:00" in text
    assert "Families First Partnership: six-monthly reviews" in text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rule_changed"))
    assert event.user_id == admin.id
    assert event.detail == "review_interval: 3 months -> 6 months"


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/rules/first_meeting_working_days", {"value": "six weeks"}, "must be a whole number"),
        ("/rules/first_meeting_working_days", {"value": "0"}, "between 1 and 120"),
        ("/rules/word_assessment", {"value": ""}, "Enter the name of the assessment"),
        (
            "/rules/word_forum",
            {"value": "panel", "effective_from": ["1", "1", "2020"]},
            "today or in the future",
        ),
        (
            "/rules/word_forum",
            {"value": "panel", "effective_from": ["31", "2", "2030"]},
            "real date",
        ),
    ],
)
def test_bad_input_gets_an_error_beside_the_field_and_keeps_what_was_typed(
    client, signed_in_admin, path, data, message
):
    page = client.get(path)
    form = {"csrf_token": csrf_token_from(page.text), **data}
    if "effective_from" in data:
        day, month, year = data.pop("effective_from")
        form = {
            "csrf_token": csrf_token_from(page.text),
            **data,
            "effective_from": [day, month, year],
        }
    response = client.post(path, data=form)
    assert response.status_code == 200
    assert message in response.text
    assert 'class="govuk-error-message"' in response.text
    assert "govuk-error-summary" in response.text
    assert f'value="{data["value"]}"' in response.text or data["value"] == ""
    assert rules.history(path.rsplit("/", 1)[1]) == []


def test_a_change_from_a_future_date_is_shown_as_coming(client, admin, sign_in, app_clock):
    app_clock.london(date(2027, 2, 1), 10)
    sign_in(admin)
    page = client.get("/rules/new_case_capacity")
    response = client.post(
        "/rules/new_case_capacity",
        data={
            "csrf_token": csrf_token_from(page.text),
            "value": "8",
            "effective_from": ["1", "4", "2027"],
            "version": "0",
        },
    )
    assert response.status_code == 302
    assert rules.current("new_case_capacity") == 10
    text = _text(client.get("/rules").text)
    assert "Changing to 8 cases from 1 April 2027, 00:00" in text
    app_clock.london(date(2027, 4, 1), 0, 1)
    assert rules.current("new_case_capacity") == 8


def test_a_save_from_a_page_opened_before_another_admins_is_refused_keeping_the_typing(
    client, signed_in_admin, make_user
):
    page = client.get("/rules/word_lead_professional")
    rules.change("word_lead_professional", "lead practitioner", by=make_user(Role.ADMIN, name="Bo"))
    db.session.commit()
    response = client.post(
        "/rules/word_lead_professional",
        data={
            "csrf_token": csrf_token_from(page.text),
            "value": "key worker",
            "version": "0",
        },
    )
    assert response.status_code == 409
    text = _text(response.text)
    assert "Someone else saved this after you opened it" in text
    assert "Bo saved changes" in text
    assert "lead practitioner" in text and 'value="key worker"' in response.text
    assert rules.current("word_lead_professional") == "lead practitioner"
    # Sent again from the re-shown page (which now carries the newer version): saved.
    again = client.post(
        "/rules/word_lead_professional",
        data={"csrf_token": csrf_token_from(response.text), "value": "key worker", "version": "1"},
    )
    assert again.status_code == 302, _text(again.text)[:3000]
    assert rules.current("word_lead_professional") == "key worker"


def test_only_admins_may_see_or_change_the_rules(client, make_user, sign_in, coordinator):
    sign_in(coordinator)
    assert client.get("/rules").status_code == 403
    assert client.post("/rules/review_capacity", data={"value": "5"}).status_code in (400, 403)
    assert rules.current("review_capacity") == 30


def test_the_forum_form_starts_with_the_capacities_in_force(client, signed_in_admin, coordinator):
    # Seed 004: up to 10 new cases and 30 reviews a meeting, here changed to 8 and 24.
    rules.change("new_case_capacity", 8, by=signed_in_admin)
    rules.change("review_capacity", 24, by=signed_in_admin)
    db.session.commit()
    form = client.get("/forums/new").text
    assert re.search(r'name="new_case_capacity"[^>]*value="8"', form)
    assert re.search(r'name="review_capacity"[^>]*value="24"', form)


def test_the_rule_history_survives_a_later_change_of_limits(database, admin):
    change = rules.change("audit_sample_one_in", 5, by=admin)
    db.session.commit()
    change.value = "500"  # as if stored when the limit allowed it
    assert rules.RULES["audit_sample_one_in"].show_stored(change.value) == "500"
    db.session.rollback()


def test_the_forum_form_says_how_its_capacity_and_the_rule_relate(
    client, signed_in_admin, coordinator
):
    rules.change("new_case_capacity", 8, by=signed_in_admin)
    db.session.commit()
    text = _text(client.get("/forums/new").text)
    assert (
        "This forum's own number. A new forum starts with the local rule, now 8; changing the "
        "rule does not change this forum's." in text
    )
