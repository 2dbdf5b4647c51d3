"""The versioned-save mechanism (issue 13: "No lost update anywhere two people can edit the same
thing"): a save from a page opened at an older version is refused with what changed since, and
SQLAlchemy's version_id_col refuses an UPDATE that would write over a row another transaction
has changed since it was read."""

from datetime import UTC, date, datetime

import pytest
from flask import render_template_string
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from maf.auth.models import Role
from maf.extensions import db
from maf.forums.models import Forum
from maf.reports import board
from maf.versioning import Difference, StaleEdit, require_version, touch
from tests.conftest import seed_charnwood, submit


def test_a_save_from_an_older_page_is_refused_naming_who_changed_what(
    make_forum, make_user, app_clock
):
    forum = make_forum(venue="Loughborough Council Offices, Room 2")
    opened_at = forum.version
    chair = make_user(Role.CHAIR, name="Margaret Okafor")
    app_clock(datetime(2026, 12, 2, 10, 42, tzinfo=UTC))
    forum.venue = "Charnwood Borough Council, Southfields"
    touch(forum, chair)
    db.session.commit()
    assert forum.version == opened_at + 1

    with pytest.raises(StaleEdit) as refused:
        require_version(
            forum,
            opened_at,
            yours={"Venue": "Loughborough Library", "Name": forum.name},
            theirs={"Venue": forum.venue, "Name": forum.name},
        )
    error = refused.value
    assert error.changed_by == "Margaret Okafor"
    assert error.when == "at 10:42"
    # Only what differs is listed; the unchanged name is not.
    assert error.differences == [
        Difference("Venue", "Charnwood Borough Council, Southfields", "Loughborough Library")
    ]
    assert error.current_version == forum.version

    notice = render_template_string(
        '{% from "_stale_edit.html" import stale_edit_notice %}{{ stale_edit_notice(error) }}',
        error=error,
    )
    assert "Margaret Okafor saved changes at 10:42, after you opened this page" in notice
    assert "Your changes have not been saved; they are still in the form below." in notice
    assert "Charnwood Borough Council, Southfields" in notice
    assert "Loughborough Library" in notice


def test_the_current_version_passes_and_a_missing_one_is_stale(make_forum):
    forum = make_forum()
    require_version(forum, forum.version, yours={}, theirs={})
    with pytest.raises(StaleEdit) as refused:
        require_version(forum, None, yours={"Venue": "x"}, theirs={"Venue": forum.venue})
    assert refused.value.changed_by == "Priya Shah"  # the coordinator who set the forum up
    # A row last changed by no known person (before versioning, or by a scheduled job).
    forum.updated_by_id = None
    db.session.commit()
    with pytest.raises(StaleEdit) as refused:
        require_version(forum, forum.version - 1, yours={}, theirs={})
    assert refused.value.changed_by == "Someone"


def test_a_concurrent_update_of_a_row_read_before_another_commit_is_refused(make_scratch_app):
    """Two saves in flight at once, on real commits: both read version 1, the first commits,
    and the second's UPDATE (WHERE version = 1) finds no row, so nothing is overwritten."""
    app = make_scratch_app("versioning")
    with app.app_context():
        district, _school, (priya, tom) = seed_charnwood(
            ("priya.shah@example.org", "Priya Shah"), ("tom.baker@example.org", "Tom Baker")
        )
        db.session.add(Forum(district=district, name="Charnwood MAF", venue="Room 2"))
        db.session.commit()
        priya_id, tom_id = priya.id, tom.id
        db.session.remove()

        first = Session(db.engine, expire_on_commit=False)
        second = Session(db.engine, expire_on_commit=False)
        query = select(Forum).where(Forum.name == "Charnwood MAF")
        first_copy, second_copy = first.scalar(query), second.scalar(query)
        first.commit()
        second.commit()  # both now hold version 1, read before either saved
        assert first_copy.version == second_copy.version == 1

        first_copy.venue = "Southfields"
        first_copy.updated_by_id = priya_id
        first.commit()
        second_copy.venue = "Loughborough Library"
        second_copy.updated_by_id = tom_id
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
        first.close()
        second.close()

        stored = db.session.scalar(query)
        assert (stored.venue, stored.version, stored.updated_by_id) == ("Southfields", 2, priya_id)
        db.session.remove()


def test_a_version_no_page_could_have_sent_counts_as_stale_not_as_an_error(
    client, sign_in, coordinator
):
    charnwood = coordinator.districts[0]
    board.board_period(charnwood, date(2026, 4, 1), date(2026, 6, 30), coordinator)
    sign_in(coordinator)
    url = f"/reports/board/{charnwood.id}/2026-04-01/2026-06-30"
    figures = {name: "1" for name in board.INPUT_LABELS}
    for nonsense in ("9" * 5000, "-1", "1.0", "\u00b2"):
        response = submit(client, url, {**figures, "version": nonsense})
        assert response.status_code == 409, nonsense[:10]
        assert "saved changes" in response.text
