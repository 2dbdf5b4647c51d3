"""Whether a person gets an optional email: their choice, or the default (issue 17, point 3)."""

import pytest

from maf.auth.models import Role
from maf.extensions import db
from maf.notifications import services
from maf.notifications.catalogue import BY_KIND, CATALOGUE, SETTINGS


def test_everyone_gets_every_kind_by_default_but_the_digest(make_user):
    user = make_user(Role.PRACTITIONER, email="sam.jones@school.example.org")
    for email in (user.email, "no.account@charity.example.org"):
        assert services.wants(email, "meeting_reminder")
        assert services.wants(email, "answer_reminder")
        assert services.wants(email, "action_reminder")  # "each reminder as it falls due"
        assert not services.wants(email, "action_digest")
        assert services.wants(email, "minutes")


def test_a_choice_is_kept_and_read_whatever_the_case_of_the_address(make_user):
    user = make_user(Role.PRACTITIONER, email="sam.jones@school.example.org")
    services.save_choices(
        user,
        {"meeting_reminder": "off", "action_reminder": "digest", "answer_reminder": "on"},
        services.choices_for(user),
    )
    shouting = "Sam.Jones@School.Example.org"
    assert not services.wants(shouting, "meeting_reminder")
    assert services.wants(shouting, "answer_reminder")
    assert not services.wants(shouting, "action_reminder")
    assert services.wants(shouting, "action_digest")


def test_none_means_no_action_email_at_all_but_the_mandatory_ones_still_come(make_user):
    user = make_user(Role.PRACTITIONER)
    services.save_choices(user, {"action_reminder": "none"}, services.choices_for(user))
    assert not services.wants(user.email, "action_reminder")
    assert not services.wants(user.email, "action_digest")
    for email in CATALOGUE:
        if not email.optional:
            assert services.wants(user.email, email.kind), email.kind


def test_a_deactivated_account_gets_the_defaults(make_user):
    user = make_user(Role.PRACTITIONER)
    services.save_choices(user, {"meeting_reminder": "off"}, services.choices_for(user))
    user.active = False
    db.session.commit()
    assert services.wants(user.email, "meeting_reminder")


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(KeyError):
        services.wants("a@example.org", "newsletter")


def test_every_optional_email_is_governed_by_a_setting_that_can_send_it():
    for email in CATALOGUE:
        if email.optional:
            assert email.sent_when in dict(SETTINGS[email.setting].choices), email.kind
        else:
            assert email.why_always, email.kind
    assert BY_KIND["action_digest"].setting == "action_reminder"
