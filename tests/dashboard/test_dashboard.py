from maf.auth.models import Role


def test_coordinator_sees_what_will_arrive_for_checks(client, make_user, make_district, sign_in):
    sign_in(make_user(Role.COORDINATOR, districts=[make_district("Charnwood")]))
    page = client.get("/").text
    assert "CAFs waiting for checks" in page
    assert "check for an existing CAF and for tier 3/4 involvement" in page
    assert "Your districts: Charnwood" in page
    assert "Meetings you chair" not in page


def test_chair_sees_meetings_they_chair(client, make_user, sign_in):
    sign_in(make_user(Role.CHAIR))
    page = client.get("/").text
    assert "Meetings you chair" in page
    assert "CAFs waiting for checks" not in page


def test_practitioner_sees_cases_actions_and_agendas(client, make_user, make_agency, sign_in):
    sign_in(make_user(Role.PRACTITIONER, agency=make_agency(name="Shepshed Orchard Primary")))
    page = client.get("/").text
    for heading in ("Your cases", "Your actions", "Agendas and minutes"):
        assert heading in page
    assert "Shepshed Orchard Primary" in page
    assert "not in any district yet" in page


def test_person_with_several_roles_sees_each_roles_panels(client, make_user, sign_in):
    sign_in(make_user(Role.PRACTITIONER, Role.CHAIR))
    page = client.get("/").text
    assert "Meetings you chair" in page and "Your actions" in page
    assert page.index("Meetings you chair") < page.index("Your actions")


def test_admin_sees_set_up_and_agencies_link(client, make_user, sign_in):
    sign_in(make_user(Role.ADMIN))
    page = client.get("/").text
    assert "Forum set-up" in page
    assert 'href="/agencies"' in page
    assert "You can see every district" in page


def test_agencies_link_is_only_for_admins(client, make_user, sign_in):
    sign_in(make_user(Role.COORDINATOR))
    assert 'href="/agencies"' not in client.get("/").text


def test_coordinator_dashboard_lists_cafs_waiting_with_their_deadline(
    client, coordinator, make_case, sign_in
):
    case = make_case("Ben", "Ward")
    sign_in(coordinator)
    page = client.get("/").text
    assert f'href="/cases/{case.id}"' in page
    assert "Ben Ward (case" in page
    assert "first meeting due by 30 November 2026" in page


def test_referrers_see_the_cases_they_referred(client, make_user, make_case, school, sign_in):
    referrer = make_user(Role.PRACTITIONER, email="pastoral.lead@example.org", agency=school)
    case = make_case("Amy", "Lee")
    sign_in(referrer)
    page = client.get("/").text
    assert f'href="/cases/{case.id}"' in page
    assert "Received: checks to do" in page


def test_meetings_appear_for_coordinator_chair_and_members(
    app, client, coordinator, make_meeting, make_user, make_agency, sign_in
):
    from datetime import date

    from maf.forums.models import MemberRole
    from maf.forums.services import add_member
    from tests.conftest import PASSWORD, submit

    meeting = make_meeting(date(2027, 1, 12))
    member = make_user(Role.PRACTITIONER, email="member@example.org")
    add_member(
        meeting.forum,
        name="Member",
        email=member.email,
        agency=make_agency(),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    expected = {
        coordinator: f"/meetings/{meeting.id}/agenda/build",
        meeting.forum.chair: f"/meetings/{meeting.id}/record",
        member: f"/meetings/{meeting.id}/agenda",
    }
    for user, href in expected.items():
        browser = app.test_client()
        submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
        page = browser.get("/").text
        assert f'href="{href}"' in page, user.email
        assert "Tuesday 12 January 2027" in page
    outsider = app.test_client()
    submit(
        outsider, "/sign-in", {"email": make_user(Role.PRACTITIONER).email, "password": PASSWORD}
    )
    assert "12 January 2027" not in outsider.get("/").text
