"""The journey's step recorder: a failed step is named with its message and the journey goes on,
every assertion is counted, and the summary gives the numbers the issue's closing note quotes."""

import pytest

from tests.journeys.helpers import Journey


def test_a_failed_step_is_recorded_and_the_next_step_still_runs(database):
    journey = Journey()
    with journey.step("Coordinator reads the queue"):
        journey.contains("Ready for a forum: Amelia Hughes", "Amelia Hughes", "the queue")
        journey.equal(2 + 2, 4, "arithmetic")
    with journey.step("Members no longer see Sophie"):
        journey.lacks("Agenda: Sophie Turner", "Sophie Turner", "the agenda page")
        journey.check(False, "never reached")
    with journey.step("The clock moves on"):
        journey.check(True, "still runs")

    assert [(s.name, s.assertions) for s in journey.steps] == [
        ("Coordinator reads the queue", 2),
        ("Members no longer see Sophie", 1),
        ("The clock moves on", 1),
    ]
    (failed,) = journey.failures
    assert failed.name == "Members no longer see Sophie"
    assert failed.failure.startswith(
        "AssertionError: the agenda page should not say 'Sophie Turner'"
    )
    summary = journey.summary()
    assert "3 steps, 2 passed, 1 failed; 4 assertions made (3 in steps that passed)" in summary
    assert "FAILED: AssertionError: the agenda page should not say 'Sophie Turner'" in summary


def test_an_error_that_is_not_an_assertion_fails_the_step_with_where_it_was_raised(database):
    journey = Journey()
    with journey.step("A service refuses"):
        {}["missing"]
    assert journey.failures[0].failure.startswith("KeyError: 'missing' (line ")


@pytest.mark.parametrize("fragment", ["", "x"])
def test_contains_counts_even_when_it_fails(database, fragment):
    journey = Journey()
    with journey.step("one"):
        journey.contains("abc", fragment, "text")
    assert journey.steps[0].assertions == 1
    assert (journey.steps[0].failure is None) == (fragment == "")
