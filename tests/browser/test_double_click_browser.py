"""A double click on Save makes one record (issue 13: "Double submission duplicates records").

In Chromium, with GOV.UK Frontend's JavaScript: the second click of a double click is ignored
(prevent-double-click), and were it sent, the form's one-time token would make the server
answer it as already saved.
"""

import threading

from sqlalchemy import func, select

from maf.cases import services as case_services
from maf.cases.models import Consent
from maf.extensions import db

ALREADY_SAVED = "This was already saved"


def _consents(case) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Consent).where(Consent.case_id == case.id)
    )


def _fill_consent_to_record(page):
    page.get_by_role("group", name="Consent to").get_by_label(
        "To record the assessment", exact=True
    ).check()
    page.get_by_role("group", name="Was consent given or refused?").get_by_label(
        "Given", exact=True
    ).check()
    page.get_by_role("group", name="Who gave or refused it?").get_by_label(
        "A parent or carer", exact=True
    ).check()
    page.get_by_label("Their name").fill("Karen Thompson")
    page.locator("#given_on-day").fill("2")
    page.locator("#given_on-month").fill("11")
    page.locator("#given_on-year").fill("2026")
    page.get_by_role("group", name="How?").get_by_label("Written (signed)", exact=True).check()


def test_a_double_click_on_save_consent_records_one_consent(
    page, coordinator, make_case, sign_in_as, monkeypatch
):
    case = make_case()
    before = _consents(case)
    sign_in_as(coordinator)
    page.goto(f"/cases/{case.id}/consents/new")
    _fill_consent_to_record(page)

    # A person's double click on a busy day: the second click comes while the server is
    # still saving the first (held here until the second click has been made), so,
    # unguarded, the browser sends the form again and the server saves it twice.
    first_arrived, second_click_made = threading.Event(), threading.Event()
    real_record_consent = case_services.record_consent

    def record_consent_slowly(*args, **kwargs):
        if not first_arrived.is_set():
            first_arrived.set()
            second_click_made.wait(10)
        return real_record_consent(*args, **kwargs)

    monkeypatch.setattr(case_services, "record_consent", record_consent_slowly)
    posts = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )
    save = page.get_by_role("button", name="Save consent")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    assert first_arrived.wait(10), "the first click did not send the form"
    page.mouse.click(x, y)  # the mouse, unlike a locator, does not wait for the navigation
    second_click_made.set()
    # The answer to the request the browser kept: the case page with what was saved.
    page.get_by_text("Consent recorded.").or_(page.get_by_text(ALREADY_SAVED)).wait_for()

    assert len(posts) == 1, "the second click sent the form again"
    assert _consents(case) == before + 1
    assert page.url.endswith(f"/cases/{case.id}#consent")
    assert page.get_by_text("Consent recorded.").is_visible()


def test_a_second_post_of_the_same_page_is_answered_as_already_saved(
    page, coordinator, make_case, sign_in_as
):
    """Past the browser's guard (a retry after a second, or the back button and Save again
    on the same page): the server answers as it did the first time and saves nothing more."""
    case = make_case()
    before = _consents(case)
    sign_in_as(coordinator)
    page.goto(f"/cases/{case.id}/consents/new")
    _fill_consent_to_record(page)
    form = page.locator("form", has=page.get_by_role("button", name="Save consent"))
    # The same body posted twice, as a retrying browser or proxy would send it.
    answers = page.evaluate(
        """async (form) => {
            const body = new URLSearchParams(new FormData(form));
            const answers = [];
            for (const _ of [1, 2]) {
                const response = await fetch(form.action, {method: 'POST', body});
                answers.push(await response.text());
            }
            return answers;
        }""",
        form.element_handle(),
    )
    assert "Consent recorded." in answers[0]
    assert ALREADY_SAVED in answers[1]
    assert _consents(case) == before + 1
