from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maf.cases.deadlines import (
    add_working_days,
    first_meeting_deadline,
    is_working_day,
    working_days_between,
)
from maf.rules import services as rules

# The first-meeting deadline asks the local rules (maf.rules), which live in the database.
pytestmark = pytest.mark.usefixtures("database")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 20), True),  # Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 28), False),  # Monday, substitute for Boxing Day on Saturday 26th
        (date(2027, 1, 1), False),  # New Year's Day
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 5, 31), False),  # Spring bank holiday (late May)
        (date(2023, 5, 8), False),  # One-off: coronation of King Charles III
        (date(2022, 9, 19), False),  # One-off: state funeral of Queen Elizabeth II
        (date(2026, 1, 2), True),  # 2 January is a holiday in Scotland only
        (date(2026, 7, 13), True),  # Substitute for the Twelfth of July: Northern Ireland only
        (date(2026, 11, 30), True),  # St Andrew's Day: Scotland only
    ],
)
def test_is_working_day_follows_england(day, working):
    assert is_working_day(day) is working


def test_first_meeting_allows_twenty_working_days():
    assert rules.current("first_meeting_working_days") == 20


def test_deadline_across_christmas_and_new_year_2026():
    # Completed Monday 14 December 2026. Counting working days after it:
    #   Tue 15 .. Thu 24 December        1-8
    #   Fri 25 Christmas Day, Sat 26 Boxing Day, Sun 27, Mon 28 (Boxing Day substitute): none
    #   Tue 29 .. Thu 31 December        9-11
    #   Fri 1 January 2027, New Year's Day: none
    #   Mon 4 .. Fri 8 January           12-16
    #   Mon 11 .. Thu 14 January         17-20
    assert first_meeting_deadline(date(2026, 12, 14)) == date(2027, 1, 14)


def test_deadline_across_easter_2027():
    # Completed Thursday 18 March 2027:
    #   Fri 19, Mon 22 .. Thu 25 March   1-5
    #   Fri 26 Good Friday, Mon 29 Easter Monday: none
    #   Tue 30 March .. Fri 2 April      6-9
    #   Mon 5 .. Fri 9 April             10-14
    #   Mon 12 .. Fri 16 April           15-19
    #   Mon 19 April                     20
    assert first_meeting_deadline(date(2027, 3, 18)) == date(2027, 4, 19)


def test_deadline_across_the_late_may_bank_holiday_2026():
    # Completed Friday 15 May 2026:
    #   Mon 18 .. Fri 22 May             1-5
    #   Mon 25 May, spring bank holiday: none
    #   Tue 26 .. Fri 29 May             6-9
    #   Mon 1 .. Fri 5 June              10-14
    #   Mon 8 .. Fri 12 June             15-19
    #   Mon 15 June                      20
    assert first_meeting_deadline(date(2026, 5, 15)) == date(2026, 6, 15)


def test_deadline_from_a_weekend_counts_from_the_next_working_day():
    # Four clear weeks of Monday to Friday from Monday 9 November 2026 end on Friday 4 December,
    # whether the assessment was completed on the Friday before or over the weekend.
    for completed in (date(2026, 11, 6), date(2026, 11, 7), date(2026, 11, 8)):
        assert first_meeting_deadline(completed) == date(2026, 12, 4)


def test_add_working_days_does_not_count_the_start():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1) == date(2026, 11, 23)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_add_working_days_refuses_a_negative_count():
    with pytest.raises(ValueError, match="0 or more"):
        add_working_days(date(2026, 11, 20), -1)


def test_working_days_between():
    assert working_days_between(date(2026, 12, 14), date(2027, 1, 14)) == 20
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 20)) == 0
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 19)) == 0
    # Friday to Sunday: the weekend holds no working days.
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 22)) == 0
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1


_DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(_DATES, st.integers(min_value=0, max_value=300))
def test_working_days_between_undoes_add_working_days(start, days):
    end = add_working_days(start, days)
    assert working_days_between(start, end) == days
    # The result is the first day that far on, so it is a working day unless nothing was added.
    assert days == 0 or is_working_day(end)


@given(_DATES, _DATES)
def test_add_working_days_reaches_the_last_working_day_by_end(start, end):
    counted = working_days_between(start, end)
    reached = add_working_days(start, counted)
    assert reached <= end or counted == 0
    # No working day lies after the one reached and on or before end.
    day = reached + timedelta(days=1)
    while day <= end:
        assert not is_working_day(day)
        day += timedelta(days=1)
