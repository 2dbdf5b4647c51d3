"""Administering people in the browser (issue 15 point 1, "People"): find and filter, change
roles, districts and agency, deactivate and reactivate, unlock, reset two-step sign-in; an
admin cannot change their own roles and the last active admin cannot be removed."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from maf.audit.models import AuditEvent
from maf.auth.models import RecoveryCode, Role, User
from maf.circulation.models import OutboxMessage
from maf.dbtypes import utcnow
from maf.extensions import db
from maf.people import services
from maf.versioning import StaleEdit
from tests.conftest import PASSWORD, csrf_token_from, submit


def _audit(action: str, person: User) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == action,
                AuditEvent.object_type == "user",
                AuditEvent.object_id == str(person.id),
            )
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Alex Admin", email="alex.admin@example.org")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert submit(client, "/sign-in", {"email": admin.email, "password": PASSWORD}).status_code
    return client


def _names(page) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/people/\d+">([^<]+)</a>', page.text)


# --- finding people -----------------------------------------------------------------------


@pytest.fixture
def staff(make_user, make_district, make_agency, admin, coordinator):
    melton = make_district("Melton")
    hub = make_agency(name="Melton Family Hub", district=melton)
    people = {
        "nadia": make_user(Role.PRACTITIONER, name="Nadia Hussain", agency=hub),
        "owen": make_user(Role.CHAIR, name="Owen Price", districts=[melton]),
        "ruth": make_user(Role.COORDINATOR, name="Ruth Ellis", districts=[melton], agency=hub),
        "gone": make_user(Role.PRACTITIONER, name="Gareth Gone", email="gareth@school.example"),
    }
    people["gone"].active = False
    people["ruth"].mfa_enabled_at = utcnow()
    people["ruth"].last_signed_in_at = utcnow() - timedelta(days=3)
    people["owen"].last_signed_in_at = utcnow() - timedelta(days=200)
    db.session.commit()
    return people | {"melton": melton, "hub": hub, "admin": admin, "priya": coordinator}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "Alex Admin",
                "Gareth Gone",
                "Nadia Hussain",
                "Owen Price",
                "Priya Shah",
                "Ruth Ellis",
            ],
        ),
        ("q=ELLIS", ["Ruth Ellis"]),
        ("q=school.example", ["Gareth Gone"]),  # by email address
        ("q=%25", []),  # a LIKE wildcard typed is a character, not "anything"
        ("role=coordinator", ["Priya Shah", "Ruth Ellis"]),
        ("role=coordinator&role=chair", ["Owen Price", "Priya Shah", "Ruth Ellis"]),
        ("district={melton}", ["Owen Price", "Ruth Ellis"]),
        ("agency={hub}", ["Nadia Hussain", "Ruth Ellis"]),
        ("agency={hub}&role=practitioner", ["Nadia Hussain"]),
        ("status=deactivated", ["Gareth Gone"]),
        ("status=active&q=gareth", []),
        ("mfa=on", ["Ruth Ellis"]),
        ("signed_in=30", ["Alex Admin", "Ruth Ellis"]),  # the admin has just signed in
        ("signed_in=never&role=practitioner", ["Gareth Gone", "Nadia Hussain"]),
        ("signed_in=not-90&role=chair", ["Owen Price"]),
        # Unreadable filters are ignored, never an error.
        ("district=abc&role=wizard&status=maybe&page=-3", None),
    ],
)
def test_the_filters_find_the_right_people(admin_client, staff, query, expected):
    url = "/people?" + query.format(melton=staff["melton"].id, hub=staff["hub"].id)
    page = admin_client.get(url)
    assert page.status_code == 200
    if expected is None:
        expected = _names(admin_client.get("/people"))
    assert _names(page) == expected


def test_the_list_shows_what_is_held_and_never_signed_in(admin_client, staff):
    page = admin_client.get("/people?q=ruth").text
    row = page[page.index("Ruth Ellis") :]
    for shown in ("Melton", "Melton Family Hub", "CAF coordinator", "Yes", "On"):
        assert shown in row
    assert "Never" in admin_client.get("/people?q=nadia").text
    assert "No (deactivated)" in admin_client.get("/people?q=gareth").text


def test_the_list_pages_fifty_at_a_time_in_a_fixed_number_of_queries(app, admin_client, staff):
    # Each with roles, a district and an agency, as Ruth has: what the list shows of them.
    db.session.add_all(
        User(
            email=f"person{n:03}@example.org",
            name=f"Person {n:03}",
            password_hash="x",
            roles=[Role.PRACTITIONER],
            districts=[staff["melton"]],
            agency=staff["hub"] if n % 2 else staff["ruth"].agency,
        )
        for n in range(60)
    )
    db.session.commit()
    first = admin_client.get("/people?q=person")
    assert "60 people: 1 to 50 shown" in first.text
    assert len(_names(first)) == 50
    second = admin_client.get("/people?q=person&page=2")
    assert _names(second) == [f"Person {n:03}" for n in range(50, 60)]
    assert 'href="/people?q=person&amp;page=1"' in second.text, "the way back keeps the filter"

    statements = []

    def count(_connection, _cursor, statement, *_args):
        if statement.startswith("SELECT"):  # not the test transaction's SAVEPOINTs
            statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            services.find_people(services.PeopleFilter(text="person"))
            many = len(statements)
            statements.clear()
            services.find_people(services.PeopleFilter(text="ruth"))
            one = len(statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert many == one, "no query per person listed (N+1)"


def test_admins_reach_people_from_the_menu_and_invite_from_there(app, admin_client, coordinator):
    page = admin_client.get("/people").text
    assert re.search(r'href="/people"\s+aria-current="true"', page), "People in the menu"
    if "invitations.new" in app.view_functions:
        assert 'href="/people/invite"' in page and "Invite someone" in page
        assert 'href="/invitations"' in page
    theirs = app.test_client()
    submit(theirs, "/sign-in", {"email": coordinator.email, "password": PASSWORD})
    assert 'href="/people"' not in theirs.get("/").text, "not offered to other roles"


# --- a person's page ------------------------------------------------------------------------


def test_the_person_page_shows_their_forums_and_audits_the_read(
    admin_client, make_forum, make_user, admin
):
    chair = make_user(Role.CHAIR, name="Margaret Okafor")
    make_forum(chair=chair)
    page = admin_client.get(f"/people/{chair.id}")
    assert page.status_code == 200
    assert "Charnwood" in page.text and "Chair" in page.text
    assert "Never" in page.text, "last signed in"
    assert any(event.user_id == admin.id for event in _audit("view", chair))
    assert admin_client.get("/people/999999").status_code == 404


# --- roles, districts and agency ------------------------------------------------------------


def test_an_admin_changes_someones_districts_and_agency_audited(
    admin_client, staff, coordinator, admin
):
    nadia = staff["nadia"]
    charnwood = coordinator.districts[0]
    response = submit(
        admin_client,
        f"/people/{nadia.id}/access",
        {
            "roles": ["practitioner", "chair"],
            "districts": [str(charnwood.id), str(staff["melton"].id)],
            "agency": "0",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert nadia.roles == {Role.PRACTITIONER, Role.CHAIR}
    assert [d.name for d in nadia.districts] == ["Charnwood", "Melton"]
    assert nadia.agency is None and nadia.access_version == 2
    (changed,) = _audit("person_access_changed", nadia)
    assert changed.user_id == admin.id
    assert "Districts: None -> Charnwood, Melton" in changed.detail
    assert "Agency: Melton Family Hub -> None" in changed.detail
    assert "Saved: Nadia Hussain" in admin_client.get(f"/people/{nadia.id}").text


def test_no_role_at_all_is_refused_beside_the_field(admin_client, staff):
    nadia = staff["nadia"]
    page = submit(admin_client, f"/people/{nadia.id}/access", {"agency": "0"})
    assert page.status_code == 200
    assert 'id="roles-error"' in page.text and "Select at least one role" in page.text
    db.session.expire_all()
    assert nadia.roles == {Role.PRACTITIONER}


def test_an_admin_cannot_change_their_own_roles(admin_client, admin, make_user, coordinator):
    make_user(Role.ADMIN, name="Second Admin")
    page = admin_client.get(f"/people/{admin.id}/access")
    assert "You cannot change your own roles" in page.text
    assert 'name="roles"' not in page.text, "no role boxes on their own form"
    # A crafted post with roles changes districts but never the roles.
    district = coordinator.districts[0]
    submit(
        admin_client,
        f"/people/{admin.id}/access",
        {"roles": ["coordinator"], "districts": [str(district.id)], "agency": "0"},
    )
    db.session.expire_all()
    assert admin.roles == {Role.ADMIN}
    assert [d.id for d in admin.districts] == [district.id]
    # And the service refuses it whoever asks.
    with pytest.raises(services.PeopleError, match="cannot change your own roles") as refused:
        services.change_access(admin, services.AccessDetails(roles={Role.COORDINATOR}), admin)
    assert refused.value.field == "roles"


def test_the_last_active_admin_cannot_lose_the_role(make_user, admin, coordinator):
    """Through the service: only a race (below) lets an admin's form ask it of the web."""
    retired = make_user(Role.ADMIN, name="Retired Admin")
    retired.active = False
    db.session.commit()
    details = services.AccessDetails(roles={Role.COORDINATOR})
    with pytest.raises(services.PeopleError, match="only active administrator") as refused:
        services.change_access(admin, details, coordinator)
    assert refused.value.field == "roles"
    db.session.rollback()
    assert admin.roles == {Role.ADMIN}
    other = make_user(Role.ADMIN, name="Other Admin")
    services.change_access(admin, details, other)
    assert admin.roles == {Role.COORDINATOR}


def test_a_stale_edit_is_refused_showing_both_versions(app, admin_client, staff, make_user):
    nadia, melton = staff["nadia"], staff["melton"]
    other_admin = make_user(Role.ADMIN, name="Bola Second")
    opened = admin_client.get(f"/people/{nadia.id}/access")
    other = app.test_client()
    submit(other, "/sign-in", {"email": other_admin.email, "password": PASSWORD})
    assert (
        submit(
            other,
            f"/people/{nadia.id}/access",
            {"roles": ["practitioner"], "districts": [str(melton.id)], "agency": "0"},
        ).status_code
        == 302
    )
    mine = {"roles": ["practitioner", "chair"], "agency": str(staff["hub"].id)}
    stale = admin_client.post(
        f"/people/{nadia.id}/access",
        data={**mine, "version": "1", "csrf_token": csrf_token_from(opened.text)},
    )
    assert stale.status_code == 409
    text = stale.text
    assert "Someone else saved this after you opened it" in text and "Bola Second" in text
    table = text[text.index("What is different") :]
    assert "Districts" in table and "Melton" in table
    assert "Forum chair, Practitioner" in table, "what they typed, in the table"
    assert 'value="chair" checked' in text, "and still in the form"
    db.session.expire_all()
    assert nadia.roles == {Role.PRACTITIONER} and [d.name for d in nadia.districts] == ["Melton"]
    # Saving again from the refused page is deliberate and goes through.
    again = admin_client.post(
        f"/people/{nadia.id}/access",
        data={**mine, "version": "2", "csrf_token": csrf_token_from(stale.text)},
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert nadia.roles == {Role.PRACTITIONER, Role.CHAIR} and nadia.districts == []


def test_of_two_saves_in_flight_at_once_the_second_is_refused(staff, admin, make_user):
    """The version moves in SQL naming the one read: a save that passed the version check just
    as another admin's committed is still refused, not written over it."""
    nadia = staff["nadia"]
    assert nadia.access_version == 1
    db.session.execute(  # the other admin's save, committed after Nadia's row was read here
        update(User)
        .where(User.id == nadia.id)
        .values(access_version=2, access_changed_by_id=make_user(Role.ADMIN, name="Bola").id)
        .execution_options(synchronize_session=False)
    )
    details = services.AccessDetails(roles={Role.CHAIR})
    with pytest.raises(StaleEdit) as refused:
        services.change_access(nadia, details, admin, version=1)
    assert refused.value.current_version == 2 and refused.value.changed_by == "Bola"
    db.session.expire_all()
    assert nadia.roles == {Role.PRACTITIONER}


def test_signing_in_does_not_make_an_open_access_form_stale(app, admin_client, staff):
    nadia = staff["nadia"]
    opened = admin_client.get(f"/people/{nadia.id}/access")
    assert submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": PASSWORD})
    saved = admin_client.post(
        f"/people/{nadia.id}/access",
        data={
            "roles": ["practitioner"],
            "agency": "0",
            "version": "1",
            "csrf_token": csrf_token_from(opened.text),
        },
    )
    assert saved.status_code == 302


# --- deactivating and reactivating ----------------------------------------------------------


def test_deactivating_ends_their_session_and_reactivating_lets_them_back(
    app, admin_client, staff, admin
):
    nadia = staff["nadia"]
    theirs = app.test_client()
    submit(theirs, "/sign-in", {"email": nadia.email, "password": PASSWORD})
    assert theirs.get("/").status_code == 200
    confirm = admin_client.get(f"/people/{nadia.id}/deactivate")
    assert "signed out everywhere" in confirm.text
    done = admin_client.post(
        f"/people/{nadia.id}/deactivate", data={"csrf_token": csrf_token_from(confirm.text)}
    )
    assert done.status_code == 302
    assert theirs.get("/").headers["Location"].startswith("/sign-in"), "signed out at once"
    refused = submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": PASSWORD})
    assert refused.status_code == 200, "cannot sign in"
    page = admin_client.get(f"/people/{nadia.id}")
    assert "Deactivated" in page.text and "Reactivate account" in page.text
    admin_client.post(
        f"/people/{nadia.id}/reactivate", data={"csrf_token": csrf_token_from(page.text)}
    )
    back = submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": PASSWORD})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert [e.user_id for e in _audit("person_deactivated", nadia)] == [admin.id]
    assert [e.user_id for e in _audit("person_reactivated", nadia)] == [admin.id]


def test_an_admin_cannot_deactivate_themselves(admin_client, admin, make_user):
    make_user(Role.ADMIN, name="Second Admin")
    page = admin_client.get(f"/people/{admin.id}")
    assert "Deactivate account" not in page.text
    refused = submit(admin_client, f"/people/{admin.id}/deactivate", {})
    assert "You cannot deactivate your own account" in refused.text
    db.session.expire_all()
    assert admin.active


def test_the_last_active_admin_cannot_be_deactivated(admin, make_user, coordinator):
    with pytest.raises(services.PeopleError, match="only active administrator"):
        services.deactivate(admin, coordinator)
    db.session.rollback()
    assert admin.active
    services.deactivate(admin, make_user(Role.ADMIN, name="Other Admin"))
    assert not admin.active


# --- unlocking ------------------------------------------------------------------------------


def test_unlocking_lets_a_locked_out_person_sign_in(app, admin_client, staff, admin):
    nadia = staff["nadia"]
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": "wrong guess"})
    locked = submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": PASSWORD})
    assert locked.status_code == 200, "the right password does not open a locked account"
    page = admin_client.get(f"/people/{nadia.id}")
    assert "Locked after too many wrong passwords" in page.text
    assert "Unlock account" in page.text
    assert "Unlock account" not in admin_client.get(f"/people/{staff['owen'].id}").text
    admin_client.post(f"/people/{nadia.id}/unlock", data={"csrf_token": csrf_token_from(page.text)})
    opened = submit(app.test_client(), "/sign-in", {"email": nadia.email, "password": PASSWORD})
    assert opened.status_code == 302
    assert [e.user_id for e in _audit("person_unlocked", nadia)] == [admin.id]


# --- resetting two-step sign-in -------------------------------------------------------------


def _with_two_step(person: User) -> None:
    person.totp_secret, person.totp_last_step, person.mfa_enabled_at = "A" * 32, 7, utcnow()
    db.session.add(RecoveryCode(user_id=person.id, code_hash=f"{person.id:064}"))
    db.session.commit()


def test_a_two_step_reset_needs_a_reason_beside_the_field(admin_client, staff):
    ruth = staff["ruth"]
    _with_two_step(ruth)
    page = submit(admin_client, f"/people/{ruth.id}/two-step-reset", {"reason": "   "})
    assert 'id="reason-error"' in page.text
    db.session.expire_all()
    assert ruth.mfa_enabled_at is not None


def test_a_two_step_reset_forgets_it_signs_them_out_mails_once_and_asks_to_enrol(
    app, admin_client, staff, admin
):
    ruth = staff["ruth"]
    _with_two_step(ruth)
    theirs = app.test_client()
    theirs.get("/")  # any session
    with theirs.session_transaction() as session:
        session["_user_id"] = ruth.session_token
        session["signed_in_at"] = session["seen_at"] = utcnow().timestamp()
    assert theirs.get("/").status_code == 200
    assert "Reset two-step sign-in" in admin_client.get(f"/people/{ruth.id}").text
    form = admin_client.get(f"/people/{ruth.id}/two-step-reset")
    data = {
        "reason": "Lost her phone on the train; identity checked by phone call",
        "once": re.search(r'name="once" type="hidden" value="([^"]+)"', form.text).group(1),
        "csrf_token": csrf_token_from(form.text),
    }
    assert admin_client.post(f"/people/{ruth.id}/two-step-reset", data=data).status_code == 302
    repeat = admin_client.post(f"/people/{ruth.id}/two-step-reset", data=data)
    assert repeat.status_code == 302, "a retry of the same form does it once"
    db.session.expire_all()
    assert ruth.totp_secret is None and ruth.mfa_enabled_at is None and ruth.totp_last_step is None
    assert (
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == ruth.id)
        )
        == 0
    )
    assert theirs.get("/").headers["Location"].startswith("/sign-in"), "their session ended"
    (message,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_email == ruth.email)
    ).all()
    assert message.subject == "Your two-step sign-in has been reset"
    assert "set up two-step sign-in again" in message.text_body
    (reset,) = _audit("person_two_step_reset", ruth)
    assert reset.user_id == admin.id
    assert "Lost her phone on the train" in reset.detail
    # Coordinators must use it (MAF_MFA_REQUIRED_ROLES): at their next sign-in, enrolment first.
    previous = app.config["MFA_REQUIRED_ROLES"]
    app.config["MFA_REQUIRED_ROLES"] = ("admin", "coordinator")
    try:
        again = submit(app.test_client(), "/sign-in", {"email": ruth.email, "password": PASSWORD})
    finally:
        app.config["MFA_REQUIRED_ROLES"] = previous
    assert again.headers["Location"] == "/account/security"


def test_a_new_role_that_must_use_two_step_sign_in_signs_them_out_to_set_it_up(
    app, admin_client, staff
):
    """MAF_MFA_REQUIRED_ROLES: an admin's powers are never used without the second factor."""
    nadia = staff["nadia"]
    theirs = app.test_client()
    submit(theirs, "/sign-in", {"email": nadia.email, "password": PASSWORD})
    previous = app.config["MFA_REQUIRED_ROLES"]
    app.config["MFA_REQUIRED_ROLES"] = ("admin", "coordinator")
    try:
        submit(admin_client, f"/people/{nadia.id}/access", {"roles": ["chair"], "agency": "0"})
        assert theirs.get("/").status_code == 200, "a chair need not: still signed in"
        submit(
            admin_client,
            f"/people/{nadia.id}/access",
            {"roles": ["chair", "coordinator"], "agency": "0"},
        )
        assert theirs.get("/").headers["Location"].startswith("/sign-in")
        again = submit(theirs, "/sign-in", {"email": nadia.email, "password": PASSWORD})
        assert again.headers["Location"] == "/account/security"
    finally:
        app.config["MFA_REQUIRED_ROLES"] = previous
    (_, promoted) = _audit("person_access_changed", nadia)
    assert promoted.detail.endswith("signed out to set up two-step sign-in")
