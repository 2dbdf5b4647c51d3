"""Working-day arithmetic for CAF time limits.

Seed 002 B3: the first Team-Around-the-Child meeting must take place within 20 working days of
the CAF assessment being completed (a local rule: maf.rules, "first_meeting_working_days").
Working days are Monday to Friday, less England bank holidays (including substitute days and
one-off days such as a coronation), as listed by the `holidays` package.
"""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from maf.dbtypes import LONDON
from maf.rules import services as rules

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # Building a year's calendar is far slower than the lookups, and a deadline search walks
    # day by day, so each year is built once per process.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """Return the date `days` working days after `start`; `start` itself is not counted.

    A start on a weekend or bank holiday gives the same answer as the working day before it.
    """
    if days < 0:
        raise ValueError("Number of working days must be 0 or more")
    day = start
    remaining = days
    while remaining:
        day += _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Count the working days after `start`, up to and including `end`; 0 if `end` <= `start`."""
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if is_working_day(day):
            count += 1
        day += _ONE_DAY
    return count


def first_meeting_working_days(
    assessment_completed: date, received_at: datetime | None = None
) -> int:
    """The first-meeting rule that applies to an assessment: the one in force when it was
    completed (by the end of that day in England) or, if earlier, when the case reached MAF.
    A later change of the rule never moves a deadline already given."""
    moment = datetime.combine(assessment_completed, time.max, LONDON)
    if received_at is not None and received_at < moment:
        moment = received_at
    return rules.in_force_at("first_meeting_working_days", moment)


def first_meeting_deadline(assessment_completed: date, received_at: datetime | None = None) -> date:
    """Return the last day the first Team-Around-the-Child meeting can be held (seed 002 B3)."""
    return add_working_days(
        assessment_completed, first_meeting_working_days(assessment_completed, received_at)
    )
