"""'Your account' shows the person's own details, roles, districts and forums before any
security setting (issue 14 point 5), and nobody else's."""

import re

from maf.auth.models import Role
from maf.extensions import db
from maf.forums.models import ForumMember, MemberRole


def _text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).replace("&#39;", "'")


def test_the_header_links_to_the_account_page_which_shows_who_you_are_first(
    client, sign_in, make_user, make_agency, make_district, make_forum, coordinator
):
    police = make_agency(name="Leicestershire Police")
    melton = make_district("Melton")
    anna = make_user(
        Role.PRACTITIONER,
        Role.CHAIR,
        name="Anna Brown",
        email="anna.brown@example.org",
        agency=police,
        districts=[coordinator.districts[0], melton],
    )
    make_forum(name="Charnwood multi-agency forum", chair=anna)
    other = make_forum(district=melton, name="Melton multi-agency forum")
    db.session.add(
        ForumMember(
            forum=other,
            name="Anna Brown",
            email="Anna.Brown@example.org",  # added before her account: found by email
            agency=police,
            role=MemberRole.STANDING,
        )
    )
    make_forum(name="South Leicestershire multi-agency forum")  # not hers
    db.session.commit()

    sign_in(anna)
    dashboard = client.get("/").text
    assert 'href="/account">Your account</a>' in dashboard
    page = _text(client.get("/account").text)

    details = page.index("Your details")
    assert page.index("Security") > page.index("Your forums") > details
    assert "Name Anna Brown" in page
    assert "Email anna.brown@example.org" in page
    assert "Agency Leicestershire Police" in page
    assert "Roles Forum chair, Practitioner" in page
    assert "Districts Charnwood, Melton" in page
    assert "Charnwood multi-agency forum Charnwood Chair" in page
    assert "Melton multi-agency forum Melton Standing member" in page
    assert "South Leicestershire" not in page
    assert "Two-step sign-in Off Set up two-step sign-in" in page
    assert "Change your password" in page


def test_the_account_page_shows_only_the_signed_in_persons_data(
    client, sign_in, make_user, coordinator
):
    make_user(Role.PRACTITIONER, name="Someone Else", email="someone.else@example.org")
    sign_in(coordinator)
    # It takes no id: a query string naming someone else changes nothing.
    page = _text(client.get("/account?user=someone.else@example.org&id=1").text)
    assert "Name Priya Shah" in page
    assert "Someone Else" not in page and "someone.else" not in page
    assert "Districts Charnwood" in page
    assert "Charnwood multi-agency forum" not in page
    assert "You are not a member, chair or coordinator of any forum." in page


def test_a_coordinator_sees_the_forums_they_coordinate(client, sign_in, make_forum, coordinator):
    make_forum()
    sign_in(coordinator)
    page = _text(client.get("/account").text)
    assert "Charnwood multi-agency forum Charnwood Coordinator" in page
    assert "Roles CAF coordinator" in page
