"""axe-core finds no violations on any page a user of each role can reach."""

from urllib.parse import urlsplit

import pytest

from maf.auth.models import Role

MAX_PAGES = 60


def _crawl(page, axe_violations, start: str = "/") -> dict[str, list]:
    """Visit every same-site page reachable by links from `start`; axe each one."""
    seen, queue, failures = set(), [start], {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(path)
        violations = axe_violations()
        if violations:
            failures[path] = violations
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc == urlsplit(page.url).netloc and not parts.path.startswith("/static"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert seen, "nothing was crawled"
    return failures


@pytest.fixture
def districts(make_district, make_agency):
    charnwood, melton = make_district("Charnwood"), make_district("Melton")
    make_agency(name="Loughborough Woodgate High School", district=charnwood)
    make_agency(name="Specialist CAMHS", district=None)
    return charnwood, melton


@pytest.mark.parametrize(
    "roles",
    [
        (Role.COORDINATOR,),
        (Role.CHAIR,),
        (Role.PRACTITIONER,),
        (Role.ADMIN,),
        (Role.PRACTITIONER, Role.CHAIR),
    ],
    ids=lambda roles: "+".join(roles),
)
def test_every_page_a_role_reaches_has_no_axe_violations(
    page, make_user, sign_in_as, axe_violations, districts, roles
):
    sign_in_as(make_user(*roles, districts=districts[:1], name="Siân O'Neill-Łukasz"))
    assert _crawl(page, axe_violations) == {}


def test_signed_out_and_error_pages_have_no_axe_violations(
    page, make_user, sign_in_as, axe_violations, districts
):
    page.goto("/sign-in")
    assert axe_violations() == []
    sign_in_as(make_user(Role.COORDINATOR), password="wrong password")
    assert page.locator(".govuk-error-summary").is_visible()
    assert axe_violations() == [], "sign-in page showing errors"
    sign_in_as(make_user(Role.PRACTITIONER, districts=districts[:1]))
    for path in ("/no-such-page", "/agencies", f"/districts/{districts[1].id}"):
        page.goto(path)
        assert axe_violations() == [], path
