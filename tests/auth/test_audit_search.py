"""'Who has viewed this child's record?' (issue 8: an admin page to search the audit log)."""

from maf.auth.models import Role
from tests.conftest import PASSWORD, submit


def _browser(app, user):
    browser = app.test_client()
    submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    return browser


def test_admin_sees_who_viewed_a_childs_record(app, make_case, make_user, coordinator):
    case = make_case()
    _browser(app, coordinator).get(f"/cases/{case.id}")
    admin = _browser(app, make_user(Role.ADMIN))
    by_case = admin.get(f"/audit?case={case.id}&action=view").text
    assert coordinator.email in by_case and "1 event, newest first" in by_case
    by_child = admin.get(f"/audit?child={case.child_id}").text
    assert coordinator.email in by_child and "case_received" in by_child
    by_user = admin.get(f"/audit?user={coordinator.email.upper()}").text
    assert "sign_in" in by_user


def test_only_admins_search_the_log(app, make_user, coordinator):
    assert _browser(app, coordinator).get("/audit?case=1").status_code == 403
