"""Column types shared by every area's models."""

import enum
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator

# Store UTC, show Europe/London: meetings, deadlines and "today" are England's.
LONDON = ZoneInfo("Europe/London")


# The app's clock: every "now" and "today" comes from utcnow(), so tests (and the journey suite's
# live server, which runs in the test's process) can move time with set_clock().
_clock_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _clock_offset


def set_clock(at: datetime | None) -> None:
    """Make the app's clock read `at` now and run on from there; None puts it back to real time."""
    global _clock_offset
    if at is None:
        _clock_offset = timedelta(0)
        return
    if at.tzinfo is None:
        raise ValueError("set_clock needs an aware datetime")
    _clock_offset = at - datetime.now(UTC)


def london_today() -> date:
    """Deadlines are days in England, so "today" is England's date, not UTC's."""
    return utcnow().astimezone(LONDON).date()


class UTCDateTime(TypeDecorator):
    """Stores UTC and always hands back an aware datetime, on SQLite as on PostgreSQL.

    SQLite has no time zones, so without this a value read back would be naive and
    comparisons with utcnow() would fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime; use maf.dbtypes.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 40) -> Enum:
    """Stores an enum's values (not its names) as a portable VARCHAR with a CHECK constraint."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        name=enum_class.__name__.lower(),
        validate_strings=True,
    )


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry the words a user sees. A label may name the local words
    (maf.rules.words): "{w.coordinator}" is read when it is shown, "CAF coordinator" or "EHA
    coordinator" as an admin has set them."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        if "{w." not in self._label:
            return self._label
        from maf.rules.words import worded

        return worded(self._label)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """For a form's choices, made when the form class is: a label with words stays a
        `Worded`, read each time the form is shown."""
        from maf.rules.words import Worded

        return [
            (member.value, Worded(member._label) if "{w." in member._label else member._label)
            for member in cls
        ]
