"""The meeting record rebuilt for the room (issue 13, item 4): an overview of the items with
their state, one page per item, attendance on its own page; saves that never silently
overwrite someone else's; any number of services and actions without JavaScript; an error
summary that names and links every field; and a record that cannot change once held."""

import re
from datetime import date

import lxml.html
import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from maf.agendas import services as agendas
from maf.agendas.models import ItemKind
from maf.extensions import db
from maf.forums.models import MemberRole
from maf.forums.services import add_member
from maf.outcomes import services
from maf.outcomes.models import (
    Action,
    ActionStatus,
    AttendanceStatus,
    ItemRecord,
    LeadKind,
    Outcome,
)
from maf.versioning import StaleEdit
from tests.conftest import PASSWORD, submit

NEW = ItemKind.NEW_CASE
CHILDREN = [
    ("Amy", "Lee", date(2013, 2, 1), "LE11 1AA"),
    ("Ben", "Ward", date(2014, 3, 2), "LE12 2BB"),
    ("Cara", "Fox", date(2012, 4, 3), "LE13 3CC"),
]


@pytest.fixture
def forum(make_forum):
    return make_forum()


@pytest.fixture
def january(make_meeting, forum):
    return make_meeting(date(2027, 1, 12), forum=forum)


@pytest.fixture
def april(make_meeting, forum):
    return make_meeting(date(2027, 4, 6), forum=forum)


@pytest.fixture
def items(january, april, make_ready_case, coordinator):
    return [
        agendas.add_to_agenda(january, make_ready_case(*child), NEW, coordinator)
        for child in CHILDREN
    ]


def client_of(app, user):
    browser = app.test_client()
    response = submit(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def item_url(item) -> str:
    return f"/meetings/{item.meeting_id}/record/items/{item.id}"


def the_form(html: str):
    """The record's form on a page, as lxml reads it."""
    (form,) = [f for f in lxml.html.fromstring(html).forms if f.get("data-maf-draft")]
    return form


def post_page(client, url: str, changes: dict, page: str | None = None, **press):
    """Post the form as the browser shows it (every field as filled in, on `page` if given:
    a page opened earlier), with `changes` typed over it and the buttons `press`ed."""
    form = the_form(page if page is not None else client.get(url).text)
    data = MultiDict(form.form_values())
    for name, value in {**changes, **press}.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return client.post(url, data=data)


def continue_with_lead(meeting, **extra) -> services.ItemDetails:
    return services.ItemDetails(
        outcome=Outcome.CONTINUE,
        next_review_on=services.propose_next_review(meeting),
        lead=services.LeadDetails(LeadKind.PRACTITIONER, "Zoë Brennan", True),
        **extra,
    )


def by_class(tree, names: str) -> list:
    """Elements by class, nested: "govuk-pagination a" is the links inside .govuk-pagination
    (lxml here has no cssselect)."""
    path = ""
    for name in names.split():
        if name == "a":
            path += "//a"
        else:
            path += f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
    return tree.xpath("." + path)


def visible_text(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


# --- the overview and one page per item -------------------------------------------------------


def test_the_overview_lists_each_item_with_its_state_and_links_to_its_page(
    client, sign_in, coordinator, january, items
):
    services.save_item_record(
        items[1], services.ItemDetails(outcome=None, discussion="Began"), coordinator
    )
    services.save_item_record(items[2], continue_with_lead(january), coordinator)
    sign_in(coordinator)
    page = client.get(f"/meetings/{january.id}/record").text
    rows = by_class(lxml.html.fromstring(page), "govuk-task-list__item")
    states = [
        (
            row.xpath(".//a")[0].text_content().split("·")[1].strip(),
            by_class(row, "govuk-task-list__status")[0].text_content().strip(),
        )
        for row in rows
    ]
    assert states == [
        ("Amy Lee", "Not started"),
        ("Ben Ward", "Needs attention: no outcome yet"),
        ("Cara Fox", "Saved"),
    ]
    assert [row.xpath(".//a")[0].get("href") for row in rows] == [item_url(i) for i in items]
    assert "Outcome: Continue, with a review" in visible_text(page)
    # No item's form is on the overview: each has its own page.
    assert 'name="discussion"' not in page


def test_each_item_page_links_to_the_previous_and_next_items_and_saves_on_to_the_next(
    client, sign_in, coordinator, january, items
):
    sign_in(coordinator)
    middle = client.get(item_url(items[1])).text
    links = {
        a.text_content().split()[0]: a.get("href")
        for a in by_class(lxml.html.fromstring(middle), "govuk-pagination a")
    }
    assert links == {"Previous": item_url(items[0]), "Next": item_url(items[2])}
    assert "item 2 of 3" in visible_text(middle)

    response = post_page(
        client, item_url(items[1]), {"discussion": "Settled at school"}, page=middle, next="1"
    )
    assert response.status_code == 302 and response.headers["Location"] == item_url(items[2])
    assert services.record_for(items[1]).discussion == "Settled at school"
    # From the last item, it goes back to the list of items.
    response = post_page(client, item_url(items[2]), {"discussion": "Last one"}, next="1")
    assert response.headers["Location"] == f"/meetings/{january.id}/record"


def test_one_item_page_of_a_40_item_meeting_is_under_150_kb(
    client, sign_in, coordinator, january, make_ready_case, make_agency
):
    """Issue 13: today a 40-item meeting's record is one page of 1.2 MB."""
    for number in range(25):  # a county's agencies: every picker lists them all
        make_agency(name=f"Leicestershire agency number {number:02d} with a long name")
    january.forum.new_case_capacity = 40
    items = []
    for number in range(40):
        case = make_ready_case("Child", f"Number{number:02d}", date(2012, 1, 1 + number % 28))
        items.append(agendas.add_to_agenda(january, case, NEW, coordinator))
    services.save_item_record(
        items[20],
        continue_with_lead(
            january,
            discussion="A long discussion. " * 500,
            actions=[
                services.ActionDetails(f"Action {n}", "Zoë Brennan", date(2027, 2, 1))
                for n in range(10)
            ],
        ),
        coordinator,
    )
    sign_in(coordinator)
    overview = client.get(f"/meetings/{january.id}/record")
    assert visible_text(overview.text).count("Not started") == 39
    assert len(overview.data) < 150_000
    page = client.get(item_url(items[20]))
    assert "Action 10: what" in page.text and "Child Number20" in page.text
    assert len(page.data) < 150_000


# --- saves that never silently overwrite ----------------------------------------------------


def test_the_second_of_two_saves_from_the_same_page_is_refused_and_keeps_what_was_typed(
    app, coordinator, january, items
):
    """Issue 13: the chair saves the discussion, the coordinator then saves outcome notes
    from the page opened earlier; the chair's text must not go, and the coordinator must be
    told what changed while keeping what they typed."""
    chair = client_of(app, january.forum.chair)
    coordinators = client_of(app, coordinator)
    url = item_url(items[0])
    chairs_page, coordinators_page = chair.get(url).text, coordinators.get(url).text

    saved = post_page(chair, url, {"discussion": "Mum is worried about school"}, page=chairs_page)
    assert saved.status_code == 302
    refused = post_page(
        coordinators,
        url,
        {"outcome_notes": "Family asked for a parenting course"},
        page=coordinators_page,
    )

    assert refused.status_code == 409
    text = visible_text(refused.text)
    assert "Margaret Okafor saved changes at" in text and "after you opened this page" in text
    assert "Discussion Mum is worried about school (empty)" in text  # field, theirs, yours
    form = the_form(refused.text)
    assert form.fields["outcome_notes"] == "Family asked for a parenting course"
    db.session.expire_all()
    record = services.record_for(items[0])
    assert (record.discussion, record.outcome_notes) == ("Mum is worried about school", "")

    # Having read the chair's change, the coordinator merges it by hand and saves on purpose.
    again = post_page(
        coordinators, url, {"discussion": "Mum is worried about school"}, page=refused.text
    )
    assert again.status_code == 302
    db.session.expire_all()
    record = services.record_for(items[0])
    assert (record.discussion, record.outcome_notes) == (
        "Mum is worried about school",
        "Family asked for a parenting course",
    )


def test_two_people_making_the_first_record_of_an_item_at_once_get_a_notice_not_an_error(
    app, coordinator, january, items, monkeypatch
):
    """The second INSERT breaks the unique key on agenda_item_id: the person is told, as for
    any later save (the race is made here by hiding the first record from the second save's
    look, as a transaction begun before the first committed would not see it)."""
    chair = client_of(app, january.forum.chair)
    coordinators = client_of(app, coordinator)
    url = item_url(items[0])
    coordinators_page = coordinators.get(url).text
    assert post_page(chair, url, {"discussion": "First"}).status_code == 302

    real = services.record_for
    looks = []

    def not_yet_committed(item):
        looks.append(item)
        return None if len(looks) == 1 else real(item)

    monkeypatch.setattr(services, "record_for", not_yet_committed)
    refused = post_page(coordinators, url, {"discussion": "Second"}, page=coordinators_page)
    assert refused.status_code == 409
    assert "saved changes" in visible_text(refused.text)
    assert the_form(refused.text).fields["discussion"] == "Second"
    db.session.expire_all()
    assert real(items[0]).discussion == "First"


def test_a_save_overtaken_between_its_check_and_its_write_is_refused(
    coordinator, january, items, monkeypatch
):
    """The check passes, then another save commits before this one writes: SQLAlchemy's
    version column refuses the UPDATE and the person gets the same notice, nothing written."""
    first = services.save_item_record(
        items[0], services.ItemDetails(outcome=None, discussion="Chair's text"), coordinator
    )
    opened_at_version = first.version
    real_check = services._check

    def overtaken(item, details):
        real_check(item, details)
        db.session.execute(
            update(ItemRecord)
            .where(ItemRecord.id == first.id)
            .values(version=ItemRecord.version + 1, discussion="Overtaking text")
            # As another connection would: this session still holds the version it read.
            .execution_options(synchronize_session=False)
        )

    monkeypatch.setattr(services, "_check", overtaken)
    with pytest.raises(StaleEdit):
        services.save_item_record(
            items[0],
            services.ItemDetails(outcome=None, discussion="Late text"),
            coordinator,
            opened_at_version=opened_at_version,
        )
    db.session.expire_all()
    assert services.record_for(items[0]).discussion != "Late text"


def test_open_actions_keep_their_ids_done_ones_are_untouched_and_removed_ones_go(
    client, sign_in, coordinator, january, items
):
    actions = [
        services.ActionDetails(what, "Zoë Brennan", date(2027, 2, 1))
        for what in ("Health check", "Call the family", "Refer to mentoring")
    ]
    services.save_item_record(items[0], continue_with_lead(january, actions=actions), coordinator)
    health, call, mentoring = db.session.scalars(select(Action).order_by(Action.id)).all()
    mentoring.status = ActionStatus.DONE  # its owner marked it done from My actions
    db.session.commit()
    sign_in(coordinator)
    page = client.get(item_url(items[0])).text
    form = the_form(page)
    assert [form.fields[f"actions-{n}-what"] for n in range(2)] == [
        "Health check",
        "Call the family",
    ]
    assert "Refer to mentoring (Zoë Brennan)" in visible_text(page)  # done, shown, not a field

    response = post_page(
        client,
        item_url(items[0]),
        {"actions-0-what": "Health check at the GP", "actions-1-remove": "y"},
        page=page,
    )
    assert response.status_code == 302
    db.session.expire_all()
    rows = {a.id: (a.description, a.status) for a in db.session.scalars(select(Action))}
    assert rows == {
        health.id: ("Health check at the GP", ActionStatus.OPEN),
        mentoring.id: ("Refer to mentoring", ActionStatus.DONE),
    }


def test_attendance_saved_from_an_older_page_is_refused(app, coordinator, january, make_agency):
    member = add_member(
        january.forum,
        name="Paul Dennis",
        email="paul@example.org",
        agency=make_agency(name="Leicestershire Police"),
        role=MemberRole.STANDING,
        user=coordinator,
    )
    chair = client_of(app, january.forum.chair)
    coordinators = client_of(app, coordinator)
    url = f"/meetings/{january.id}/record/attendance"
    chairs_page, coordinators_page = chair.get(url).text, coordinators.get(url).text
    key = f"member-{member.id}"
    assert post_page(chair, url, {key: "present"}, page=chairs_page).status_code == 302
    refused = post_page(coordinators, url, {key: "apologies"}, page=coordinators_page)
    assert refused.status_code == 409
    assert "Paul Dennis (Leicestershire Police) Present Apologies" in visible_text(refused.text)
    assert the_form(refused.text).fields[key] == "apologies"  # what they chose, kept
    db.session.expire_all()
    assert [a.status for a in services.attendance_of(january)] == [AttendanceStatus.PRESENT]


def test_a_guest_without_an_agency_survives_reload_and_a_second_save(
    client, sign_in, coordinator, january
):
    """Issue 13: such a guest was in the minutes but not in the Guests box on reload, so the
    next save of attendance deleted them."""
    sign_in(coordinator)
    url = f"/meetings/{january.id}/record/attendance"
    guests = "Dr Amira Patel, Specialist CAMHS\nKaren Lee"
    assert post_page(client, url, {"guests": guests}).status_code == 302
    assert the_form(client.get(url).text).fields["guests"] == guests
    assert post_page(client, url, {}).status_code == 302  # saved again as shown
    db.session.expire_all()
    assert [(g.name, g.agency_name) for g in services.guests_of(january)] == [
        ("Dr Amira Patel", "Specialist CAMHS"),
        ("Karen Lee", ""),
    ]


# --- any number of rows, without JavaScript ---------------------------------------------------


def test_add_another_shows_one_more_empty_row_keeping_everything_typed(
    client, sign_in, coordinator, january, items, make_agency
):
    police = make_agency(name="Leicestershire Police")
    sign_in(coordinator)
    url = item_url(items[0])
    typed = {
        "discussion": "Typed before adding",
        "services-0-agency": str(police.id),
        "services-0-what": "Neighbourhood officer visits",
    }
    page = post_page(client, url, typed, add_services="1")
    assert page.status_code == 200
    form = the_form(page.text)
    assert {name: form.fields[name] for name in typed} == typed
    assert (
        form.fields["services-1-what"] == "" and "Service 2: what the agency will do" in page.text
    )
    assert (
        'id="services-1-what" name="services-1-what" type="text" autofocus' in page.text
        or re.search(r'<input[^>]*id="services-1-what"[^>]*autofocus', page.text)
    )
    assert services.record_for(items[0]) is None, "adding a row saves nothing"

    # Five more rows, then save: every service is kept.
    for number in range(1, 6):
        page = post_page(
            client,
            url,
            {
                f"services-{number}-agency": str(police.id),
                f"services-{number}-what": f"Visit {number}",
            },
            page=page.text,
            add_services="1",
        )
    assert post_page(client, url, {}, page=page.text).status_code == 302
    db.session.expire_all()
    assert [s.what for s in services.record_for(items[0]).services] == [
        "Neighbourhood officer visits",
        *[f"Visit {n}" for n in range(1, 6)],
    ]


# --- errors ----------------------------------------------------------------------------------


def test_the_error_summary_lists_every_error_naming_its_field_and_linking_to_it(
    client, sign_in, coordinator, january, items
):
    """Issue 13: the summary said "There is a problem" and listed nothing, and "Field cannot
    be longer than 10000 characters" did not say which field."""
    sign_in(coordinator)
    page = post_page(
        client,
        item_url(items[0]),
        {
            "discussion": "x" * 10_001,
            "actions-0-what": "Call the family",
            "actions-0-due": ["31", "2", "2027"],
            "lead_kind": "practitioner",
        },
    )
    assert page.status_code == 400
    tree = lxml.html.fromstring(page.text)
    links = by_class(tree, "govuk-error-summary__list a")
    assert [(a.text_content(), a.get("href")) for a in links] == [
        ("Discussion must be 10,000 characters or fewer", "#discussion"),
        ("Enter who will do action 1", "#actions-0-owner"),
        ("Action 1: due must be a real date", "#actions-0-due-day"),
        ("Enter the lead professional's name", "#lead_name"),
    ]
    for link in links:
        assert tree.get_element_by_id(link.get("href")[1:]) is not None
    # Each message is also beside its field.
    messages = [
        m.text_content().replace("Error:", "").strip()
        for m in by_class(tree, "govuk-error-message")
    ]
    assert messages == [a.text_content() for a in links]
    assert page.text.count("Error: ") >= 1 and tree.findtext(".//title").startswith("Error: ")


# --- once held, read-only ---------------------------------------------------------------------


def test_once_held_every_record_page_is_read_only_and_a_save_is_refused(
    client, sign_in, coordinator, january, items, app_clock
):
    for item in items:
        services.save_item_record(
            item, continue_with_lead(january, discussion="Agreed"), coordinator
        )
    app_clock.london(date(2027, 1, 12), 13, 0)
    services.complete_meeting(january, coordinator)
    sign_in(coordinator)
    notice = (
        "This meeting was recorded as held on 12 January 2027; the record can no longer be "
        "changed. Corrections go in the minutes."
    )
    for url in (
        f"/meetings/{january.id}/record",
        f"/meetings/{january.id}/record/attendance",
        item_url(items[0]),
    ):
        page = client.get(url).text
        assert notice in visible_text(page), url
        assert not re.search(r"<(input|textarea|select)\b(?![^>]*name=\"csrf_token\")", page), url
        assert ">Save" not in page and "Complete the meeting record" not in page, url
    assert "Agreed" in visible_text(client.get(item_url(items[0])).text)

    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(f"/meetings/{january.id}/minutes").text
    )
    data = {"csrf_token": token.group(1) if token else "", "version": "1", "discussion": "Changed"}
    refused = client.post(item_url(items[0]), data=data)
    assert refused.status_code == 409 and notice in visible_text(refused.text)
    refused = client.post(
        f"/meetings/{january.id}/record/attendance", data={**data, "guests": "Sam"}
    )
    assert refused.status_code == 409
    db.session.expire_all()
    assert services.record_for(items[0]).discussion == "Agreed"
    assert services.guests_of(january) == []


def test_the_overview_and_an_item_page_send_as_many_statements_for_12_items_as_for_3(
    client, sign_in, coordinator, january, items, make_ready_case
):
    """Each item's state comes from one query for all the items, not one per item (issue 13:
    the record of a 40-item meeting took 740 ms to build)."""
    from tests.agendas.test_query_counts import statements

    services.save_item_record(items[0], continue_with_lead(january), coordinator)
    sign_in(coordinator)
    overview, item_page = f"/meetings/{january.id}/record", item_url(items[1])
    with_three = statements(client, overview), statements(client, item_page)
    january.forum.new_case_capacity = 20
    for number in range(9):
        case = make_ready_case("Child", f"Number{number:02d}", date(2015, 1, 1 + number))
        added = agendas.add_to_agenda(january, case, NEW, coordinator)
        services.save_item_record(added, continue_with_lead(january), coordinator)

    assert visible_text(client.get(overview).text).count("Outcome: Continue") == 10
    assert (statements(client, overview), statements(client, item_page)) == with_three
