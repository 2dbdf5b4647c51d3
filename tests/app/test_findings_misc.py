"""Smaller findings of issue 13, each tried as the person who met it: plurals ("1 days ago"),
dashboards that said "will appear here" over work that was there, the "same child" merge,
redirects holding CR/LF, "mark action done" twice, and the CSV formula guard."""

from datetime import date

import pytest

from maf.words import plural


# --- "1 days ago" ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [(0, "day", "0 days"), (1, "day", "1 day"), (2, "day", "2 days"), (1, "child", "1 child")],
)
def test_plural_agrees_with_the_count(count, noun, expected):
    assert plural(count, noun) == expected


def test_plural_takes_an_irregular_plural():
    assert plural(3, "child", "children") == "3 children"


def test_the_coordinators_queue_says_1_day_ago(client, sign_in, make_case, coordinator, app_clock):
    app_clock.london(date(2026, 12, 2), 10, 0)
    make_case(assessment_completed_on=date(2026, 12, 1))
    make_case(
        "Amy", "Lee", date(2013, 2, 1), "LE11 1AA", assessment_completed_on=date(2026, 11, 30)
    )
    sign_in(coordinator)

    page = client.get("/cases/").text

    assert "1 December 2026 (1 day ago)" in page
    assert "30 November 2026 (2 days ago)" in page
    assert "1 days" not in page


def test_a_forum_of_one_new_case_and_one_review_says_so(client, sign_in, make_forum, coordinator):
    forum = make_forum(new_case_capacity=1, review_capacity=1)
    sign_in(coordinator)

    page = client.get(f"/forums/{forum.id}").text

    assert "1 new case and 1 review a meeting" in page
