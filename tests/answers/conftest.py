"""A circulated meeting with three invited members, and the real dovecot (tests/imap_server.py)."""

from dataclasses import dataclass

import pytest

from maf.forums.models import Meeting
from tests.answers.meeting import MEMBERS, circulated_meeting
from tests.imap_server import imap_server  # noqa: F401  (the real dovecot, as a fixture)


@dataclass
class Circulated:
    meeting: Meeting
    emails: tuple[str, ...]


@pytest.fixture
def circulated(coordinator, make_meeting, make_agency, make_ready_case) -> Circulated:
    meeting = circulated_meeting(coordinator, make_meeting, make_agency, make_ready_case)
    return Circulated(meeting, tuple(email for _, email, _ in MEMBERS))
