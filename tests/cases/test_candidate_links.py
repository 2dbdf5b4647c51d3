"""The existing-CAF check's possible matches link to the matched child's case when the
coordinator may open it, and say which district holds it and whom to ask when not; showing a
match and opening its case are both in the audit log (issue 14 point 5; DESIGN §4: every read
of a child's record is audited)."""

import re

import pytest
from sqlalchemy import select

from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.extensions import db


@pytest.fixture
def signed_in_coordinator(client, coordinator, sign_in):
    sign_in(coordinator)
    return coordinator


def _audit(action, case, user):
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.object_type == "caf_case",
                AuditEvent.object_id == str(case.id),
                AuditEvent.user_id == user.id,
            )
        )
    )


def _card(page: str, name: str) -> str:
    start = page.index(f'<h3 class="govuk-summary-card__title">{name}')
    return page[start : page.index("</form>", start) if "</form>" in page[start:] else None]


def test_a_possible_match_links_to_that_childs_case_and_both_reads_are_audited(
    client, signed_in_coordinator, make_case
):
    earlier = make_case()  # Jessica Thompson
    newer = make_case(given_name="Jess")
    db.session.commit()

    page = client.get(f"/cases/{newer.id}").text
    card = _card(page, "Jessica Thompson")
    link = re.search(r'<a class="govuk-link" href="/cases/(\d+)">Case (\d+)', card)
    assert link and link.group(1) == str(earlier.id) == link.group(2)
    assert "Charnwood" in card
    shown = _audit("view_as_possible_match", earlier, signed_in_coordinator)
    assert [event.detail for event in shown] == [f"possible match on case {newer.id}"]

    opened = client.get(f"/cases/{earlier.id}")
    assert "Jessica Thompson" in opened.text
    assert len(_audit("view", earlier, signed_in_coordinator)) == 1


def test_a_match_in_a_district_the_coordinator_cannot_see_names_the_district_and_whom_to_ask(
    client, signed_in_coordinator, make_case, make_district, make_user
):
    melton = make_district("Melton")
    melton_coordinator = make_user(
        Role.COORDINATOR, districts=[melton], name="Sam Okoro", email="sam.okoro@example.org"
    )
    theirs = make_case(district=melton, user=melton_coordinator)
    ours = make_case(given_name="Jess")
    db.session.commit()

    card = _card(client.get(f"/cases/{ours.id}").text, "Jessica Thompson")
    assert f'href="/cases/{theirs.id}"' not in card
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", card))
    assert "Held by Melton, which you cannot open." in text
    assert (
        f"Ask Sam Okoro (sam.okoro@example.org), its CAF coordinator, about case {theirs.id}."
        in text
    )
    # Shown as a match is still a read of that child's record.
    assert len(_audit("view_as_possible_match", theirs, signed_in_coordinator)) == 1
    assert client.get(f"/cases/{theirs.id}").status_code == 404


def test_a_practitioner_who_referred_the_case_is_not_shown_other_children(
    client, sign_in, make_case, make_user
):
    referrer = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org")
    make_case()
    newer = make_case(given_name="Jess")
    db.session.commit()
    assert newer.match_candidates, "the check found the earlier child"
    sign_in(referrer)
    page = client.get(f"/cases/{newer.id}").text
    assert "Jess Thompson" in page, "the referrer sees the case they referred"
    assert "Jessica Thompson" not in page
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view_as_possible_match"))
        is None
    )
