"""Every route declares who may use it; district scoping hides other districts' objects."""

import pytest
from flask import Blueprint
from sqlalchemy import select

from maf import create_app
from maf.audit.models import AuditEvent
from maf.auth.models import Role
from maf.auth.permissions import access_of
from maf.extensions import db

# The only ways in without signing in. Adding a route here must be a deliberate decision.
# The calendar feed is fetched by calendar programs, which cannot sign in: its URL carries a
# secret per-user token instead (tests/circulation).
# The second-factor page is reached half signed in: it checks its own pending session.
PUBLIC_ENDPOINTS = {
    "auth.sign_in",
    "auth.second_factor",
    "auth.forgotten_password",
    "auth.reset_password",
    "dashboard.health",
    "static",
    "circulation.feed",
    # Single sign-on's two legs (maf/sso): off to the identity provider and back; the way back
    # signs nobody in without a state from this browser and a token the provider signed.
    "sso.start",
    "sso.callback",
    # Invitations (maf/invitations): the link is the credential (one use, 7 days, only its
    # hash stored), and asking for an account answers the same for any address.
    "invitations.accept",
    "invitations.request_account",
    # The accessibility statement and the privacy notice (maf/public_pages): the law asks that
    # anyone can read them, signed in or not.
    "public_pages.show",
    # Answers to a meeting invitation from the email's one-click link (maf/answers): the signed
    # link is the credential (one purpose, one meeting and address, expiring when the meeting
    # ends), and showing it changes nothing: only the confirmation's POST records the answer.
    "answers.answer",
    "answers.confirm_answer",
}


def _sample_url(rule) -> str:
    values = {name: 1 for name in rule.arguments}
    if rule.endpoint == "static":
        values = {"filename": "css/app.css"}
    return rule.build(values, append_unknown=False)[1]


def _routes(app):
    return [rule for rule in app.url_map.iter_rules()]


def test_every_view_declares_who_may_use_it(app):
    undeclared = [
        rule.endpoint
        for rule in _routes(app)
        if access_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []


def test_public_routes_are_exactly_sign_in_static_health_and_the_feed(app):
    public = {
        rule.endpoint
        for rule in _routes(app)
        if access_of(app.view_functions[rule.endpoint]).public
    }
    assert public == PUBLIC_ENDPOINTS


def test_no_route_is_reachable_without_signing_in(app, client):
    """Walks app.url_map, so a new unprotected route fails here."""
    checked = 0
    for rule in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if method == "GET":
                assert response.status_code == 302, (method, url)
                assert response.headers["Location"].startswith("/sign-in"), (method, url)
            else:
                # Unsigned posts fail the CSRF check before anything else runs.
                assert response.status_code in (302, 400), (method, url)
                assert "Hello" not in response.text
            checked += 1
    assert checked >= 4


def test_a_view_without_a_declaration_is_refused(database):
    app = create_app("test")
    forgotten = Blueprint("forgotten", __name__)

    @forgotten.route("/forgotten")
    def undeclared_view():
        return "child's record"

    app.register_blueprint(forgotten)
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "child's record" not in response.text


def test_role_is_required_and_refusals_are_audited(client, make_user, sign_in):
    sign_in(make_user(Role.PRACTITIONER))
    response = client.get("/agencies")
    assert response.status_code == 403
    assert "You do not have permission" in response.text
    denial = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "permission_denied"))
    assert denial is not None and "/agencies" in denial.detail


def test_admin_may_list_agencies(client, make_user, make_agency, sign_in):
    make_agency(name="Melton Vale High School")
    sign_in(make_user(Role.ADMIN))
    response = client.get("/agencies")
    assert response.status_code == 200
    assert "Melton Vale High School" in response.text


@pytest.fixture
def charnwood_and_melton(make_district):
    return make_district("Charnwood"), make_district("Melton")


def test_coordinator_cannot_see_another_districts_objects(
    client, make_user, sign_in, charnwood_and_melton
):
    charnwood, melton = charnwood_and_melton
    sign_in(make_user(Role.COORDINATOR, districts=[charnwood]))
    assert client.get(f"/districts/{charnwood.id}").status_code == 200
    response = client.get(f"/districts/{melton.id}")
    assert response.status_code == 404, "out of scope looks exactly like absent"
    assert "Melton" not in response.text
    assert client.get("/districts/999999").status_code == 404
    listing = client.get("/districts").text
    assert "Charnwood" in listing and "Melton" not in listing
    denials = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "permission_denied")
        .order_by(AuditEvent.id)
    ).all()
    assert f"district {melton.id} out of scope" in denials[0]
    assert "district 999999 out of scope" in denials[1]


def test_reading_a_district_is_audited(client, make_user, sign_in, charnwood_and_melton):
    charnwood, _ = charnwood_and_melton
    user = make_user(Role.COORDINATOR, districts=[charnwood])
    sign_in(user)
    client.get(f"/districts/{charnwood.id}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view"))
    assert (event.user_id, event.object_type, event.object_id) == (
        user.id,
        "district",
        str(charnwood.id),
    )


def test_admin_sees_every_district(client, make_user, make_agency, sign_in, charnwood_and_melton):
    charnwood, melton = charnwood_and_melton
    make_agency(name="Loughborough Woodgate High School", district=charnwood)
    make_agency(name="Melton Vale High School", district=melton)
    sign_in(make_user(Role.ADMIN))
    for district, own, other in (
        (charnwood, "Loughborough Woodgate High School", "Melton Vale High School"),
        (melton, "Melton Vale High School", "Loughborough Woodgate High School"),
    ):
        page = client.get(f"/districts/{district.id}")
        assert page.status_code == 200
        assert f'<h1 class="govuk-heading-l">{district.name}</h1>' in page.text
        assert f"Agencies working in {district.name}" in page.text
        assert own in page.text and other not in page.text


def test_district_page_lists_its_own_and_authority_wide_agencies(
    client, make_user, make_agency, sign_in, charnwood_and_melton
):
    charnwood, melton = charnwood_and_melton
    make_agency(name="Loughborough Woodgate High School", district=charnwood)
    make_agency(name="Melton Vale High School", district=melton)
    make_agency(name="Leicestershire Police", district=None)
    sign_in(make_user(Role.COORDINATOR, districts=[charnwood]))
    page = client.get(f"/districts/{charnwood.id}").text
    assert "Loughborough Woodgate High School" in page
    assert "Leicestershire Police" in page
    assert "Melton Vale High School" not in page
