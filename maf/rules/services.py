"""The local rules: what each one is, its seed default, the value in force at any moment, and
changing one.

A change inserts a row (maf.rules.models.RuleChange) in force from a moment on; nothing is
ever updated, so whoever asks "what was the rule when this happened?" (`in_force_at`) gets the
answer that applied then, and a deadline computed before a change stays as it was.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import has_request_context, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from maf.audit import services as audit
from maf.dbtypes import utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.rules import append_only
from maf.rules.models import RuleChange
from maf.versioning import UNCHECKED, Difference, StaleEdit
from maf.words import plural

WORD_MAX = 60
SHORT_WORD_MAX = 12
REASON_MAX = 500


@dataclass(frozen=True)
class Interval:
    """A period in whole weeks or months: most councils review every 3 months (seed 002 C1),
    others every 6 or 12 weeks."""

    count: int
    unit: str  # "weeks" or "months"

    def after(self, day: date) -> date:
        return day + relativedelta(**{self.unit: self.count})

    def __str__(self) -> str:
        return plural(self.count, self.unit.removesuffix("s"))


# The longest interval each unit may take: a year.
INTERVAL_MAXIMUM = {"weeks": 52, "months": 12}
_INTERVAL = re.compile(r"(\d{1,6})\s*(weeks?|months?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """A local rule: how it is named, read and checked, and where its default comes from."""

    name: str
    label: str
    default: Any
    seed: str  # the seed rule the default comes from, as a person would cite it
    hint: str
    kind: type = int  # int, str or Interval
    minimum: int = 1
    maximum: int = 100
    unit: str = ""  # for numbers: "working days", "months"...

    def parse(self, raw) -> Any:
        """The value typed or stored, checked; DomainError (beside the field) when it is not
        one this rule can take."""
        text = "" if raw is None else str(raw).strip()
        if self.kind is int:
            if not text:
                raise DomainError(f"Enter the {self.label.lower()}", field="value")
            try:
                number = int(text)
            except ValueError:
                raise DomainError(
                    f"{self.label} must be a whole number, like {self.default}", field="value"
                ) from None
            if not self.minimum <= number <= self.maximum:
                raise DomainError(
                    f"{self.label} must be between {self.minimum} and {self.maximum}",
                    field="value",
                )
            return number
        if not text:
            raise DomainError(f"Enter the {self.label.lower()}", field="value")
        if self.kind is Interval:
            return self._interval(text)
        if "\n" in text or "\r" in text:
            raise DomainError(f"{self.label} must be on one line", field="value")
        if len(text) > self.maximum:
            raise DomainError(
                f"{self.label} must be {self.maximum} characters or fewer", field="value"
            )
        return " ".join(text.split())

    def _interval(self, text: str) -> Interval:
        found = _INTERVAL.fullmatch(text)
        if found is None:
            raise DomainError(
                f"{self.label} must be a number of weeks or months, like {self.default} or 6 weeks",
                field="value",
            )
        count = int(found.group(1))
        unit = (found.group(2) or self.default.unit).lower()
        unit = unit if unit.endswith("s") else unit + "s"
        if not 1 <= count <= INTERVAL_MAXIMUM[unit]:
            raise DomainError(
                f"{self.label} must be between 1 and {INTERVAL_MAXIMUM[unit]} {unit}",
                field="value",
            )
        return Interval(count, unit)

    @property
    def numeric(self) -> bool:
        return self.kind is int

    @property
    def interval(self) -> bool:
        return self.kind is Interval

    def show(self, value) -> str:
        """The value in words, for the rules page and its history."""
        if self.kind is int and self.unit:
            return f"{value} {self.unit}"
        return str(value)

    def show_stored(self, raw: str) -> str:
        """A stored value in words, as it was stored even if the rule's limits have moved."""
        try:
            return self.show(self.parse(raw))
        except DomainError:
            return raw


def _word(name, label, default, seed, hint, maximum=WORD_MAX):
    return Rule(name, label, default, seed, hint, kind=str, minimum=1, maximum=maximum)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "first_meeting_working_days",
            "First meeting deadline",
            20,
            "Seed 002 B3: the first Team-Around-the-Child meeting within 20 working days of "
            "the assessment being completed",
            "Working days (Monday to Friday, not bank holidays) from the assessment being "
            "completed. Cases assessed before a change keep the deadline they had.",
            minimum=1,
            maximum=120,
            unit="working days",
        ),
        Rule(
            "review_interval",
            "Review interval",
            Interval(3, "months"),
            "Seed 002 C1: the delivery plan reviewed within 3 months of the first meeting, "
            "then every 3 months",
            "Weeks or months between a case's reviews, like 3 months or 6 weeks (a number "
            "alone is months). Applies to review dates the forum sets after the change; review "
            "dates already set stay.",
            kind=Interval,
        ),
        Rule(
            "new_case_capacity",
            "New cases per meeting",
            10,
            "Seed 004: up to 10 new cases at each forum meeting (about 20 minutes each)",
            "The capacity a new forum starts with. Each forum keeps its own capacity, which a "
            "coordinator can change on the forum's page; a change here does not alter forums "
            "that already exist.",
            minimum=1,
            maximum=30,  # as a forum's own capacity may be
            unit="cases",
        ),
        Rule(
            "review_capacity",
            "Reviews per meeting",
            30,
            "Seed 004: up to 30 reviews of earlier cases at each forum meeting",
            "The review capacity a new forum starts with. Each forum keeps its own capacity; a "
            "change here does not alter forums that already exist.",
            minimum=0,
            maximum=100,  # as a forum's own capacity may be
            unit="reviews",
        ),
        Rule(
            "retention_years_accessible",
            "Years a closed case stays accessible",
            1,
            "Seed 002 D3: a closed CAF stays accessible for one year, then is archived",
            "Years after closure before a case is archived (flagged and restricted). A "
            "shorter period takes effect at the next nightly retention run.",
            minimum=1,
            maximum=25,
            unit="years",
        ),
        Rule(
            "retention_years_archived",
            "Years a case stays archived",
            6,
            "Seed 002 D3: archived for a further six years, then destroyed",
            "Years a case stays archived before the child's identifying data and the free text "
            "are destroyed. A shorter period takes effect at the next nightly retention run, "
            "and what it destroys cannot be brought back.",
            minimum=1,
            maximum=75,
            unit="years",
        ),
        Rule(
            "audit_sample_one_in",
            "Audit sample of closed cases",
            10,
            "Seed 002 E: audit a sample of 1 in 10 closed CAFs",
            "One closed case in this many is drawn for audit. Samples already drawn stay as "
            "they were.",
            minimum=1,
            maximum=100,
            unit="",
        ),
        Rule(
            "action_reminder_working_days",
            "Action reminder",
            3,
            "MAF default: a reminder 3 working days before an action is due",
            "Working days (Monday to Friday, not bank holidays) before an action's due date "
            "that its owner is reminded of it, unless they chose otherwise. They are reminded "
            "again on the first working day after it is overdue.",
            minimum=1,
            maximum=20,
            unit="working days",
        ),
        Rule(
            "answer_reminder_working_days",
            "Reminder to answer an invitation",
            3,
            "MAF default: members who have not answered a meeting's invitation are reminded 3 "
            "working days before it",
            "Working days (Monday to Friday, not bank holidays) before a meeting that the "
            "members who have not said whether they will come get one reminder, unless they "
            "chose not to.",
            minimum=1,
            maximum=20,
            unit="working days",
        ),
        _word(
            "word_assessment",
            "Name of the assessment",
            "Common Assessment Framework",
            "Seed 003: the Common Assessment Framework (national guidance, 2009)",
            "For example, early help assessment.",
        ),
        _word(
            "word_assessment_short",
            "Short name of the assessment",
            "CAF",
            "Seed 003: CAF",
            "For example, EHA.",
            maximum=SHORT_WORD_MAX,
        ),
        _word(
            "word_forum",
            "Name of the forum",
            "multi-agency forum",
            "Seed 004: the district multi-agency forums",
            "Written in lower case; pages start it with a capital where a sentence begins.",
        ),
        _word(
            "word_forum_short",
            "Short name of the forum",
            "MAF",
            "Seed 004: MAF",
            "For example, EHAP.",
            maximum=SHORT_WORD_MAX,
        ),
        _word(
            "word_lead_professional",
            "Name of the lead professional",
            "lead professional",
            "Seed 001: the lead professional role",
            "For example, lead practitioner. Written in lower case.",
        ),
    )
}

# The seeds' values, for whoever needs the default without asking the database.
DEFAULTS: dict[str, Any] = {name: rule.default for name, rule in RULES.items()}


def rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"no local rule called {name!r}") from None


# --- reading -------------------------------------------------------------------------------------

_CACHE_KEY = "maf.rules.changes"
# The rows read are also left on the request under this name: a cache built on the rules (the
# words, maf.rules.words) keys on them, and is made again when they are read again.
_CACHE_ATTRIBUTE = "_maf_rule_changes"
# How many changes this process has made: a session's cached rows older than a change made
# through another session (another request, a test's) are read again.
_changes_made = 0


def _changes() -> list[tuple[str, int, str, datetime]]:
    """Every change as (name, sequence, value, effective_from), oldest first.

    The table is small (a change is an admin's deliberate act) while a page, a report or a job
    may ask for a rule hundreds of times, so one database transaction reads it once."""
    session = db.session()
    cached = session.info.get(_CACHE_KEY)
    transaction = session.get_transaction()
    if (
        cached is not None
        and transaction is not None
        and cached[0] is transaction
        and cached[2] == _changes_made
    ):
        return cached[1]
    rows = [
        tuple(row)
        for row in session.execute(
            select(
                RuleChange.name, RuleChange.sequence, RuleChange.value, RuleChange.effective_from
            ).order_by(RuleChange.effective_from, RuleChange.sequence)
        )
    ]
    session.info[_CACHE_KEY] = (session.get_transaction(), rows, _changes_made)
    if has_request_context():
        setattr(request._get_current_object(), _CACHE_ATTRIBUTE, rows)
    return rows


def _forget_cached() -> None:
    # Every session of this process reads the rules again, not only this one.
    global _changes_made
    _changes_made += 1
    db.session().info.pop(_CACHE_KEY, None)
    if has_request_context():
        holder = request._get_current_object()
        if hasattr(holder, _CACHE_ATTRIBUTE):
            delattr(holder, _CACHE_ATTRIBUTE)


def in_force_at(name: str, when: datetime) -> Any:
    """The value of rule `name` in force at `when` (an aware datetime): the latest change in
    force by then, or the seed's default when none was."""
    definition = rule(name)
    if when.tzinfo is None:
        raise ValueError("in_force_at needs an aware datetime")
    stored = None
    for changed_name, _sequence, raw, effective_from in _changes():
        if effective_from > when:
            break
        if changed_name == name:
            stored = raw
    return definition.default if stored is None else definition.parse(stored)


def current(name: str) -> Any:
    """The value of rule `name` in force now."""
    return in_force_at(name, utcnow())


def history(name: str) -> list[RuleChange]:
    """The rule's changes, newest first, with who made them."""
    rule(name)
    return list(
        db.session.scalars(
            select(RuleChange)
            .where(RuleChange.name == name)
            .options(selectinload(RuleChange.changed_by))
            .order_by(RuleChange.sequence.desc())
        )
    )


def histories() -> dict[str, list[RuleChange]]:
    """Every rule's history (newest first), in one query, for the rules page."""
    found: dict[str, list[RuleChange]] = {name: [] for name in RULES}
    for change in db.session.scalars(
        select(RuleChange)
        .options(selectinload(RuleChange.changed_by))
        .order_by(RuleChange.sequence.desc())
    ):
        if change.name in found:
            found[change.name].append(change)
    return found


def version_of(name: str) -> int:
    """The number of changes the rule has had: what a form opened now carries, so a save
    from an older page is refused."""
    return db.session.scalar(
        select(func.coalesce(func.max(RuleChange.sequence), 0)).where(RuleChange.name == name)
    )


# --- changing ------------------------------------------------------------------------------------


def change(
    name: str,
    value,
    *,
    by,
    reason: str | None = None,
    effective_from: datetime | None = None,
    version=UNCHECKED,
) -> RuleChange:
    """Change rule `name` to `value` from `effective_from` (now when not given; never the past,
    which would rewrite what already happened). Adds the change and its audit event to the
    current transaction; the caller commits.

    `version` is `version_of(name)` when the admin's form was opened: a save from an older
    page raises StaleEdit naming the change made meanwhile."""
    definition = rule(name)
    parsed = definition.parse(value)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise DomainError(f"Reason must be {REASON_MAX} characters or fewer", field="reason")
    now = utcnow()
    if effective_from is None or effective_from < now:
        if effective_from is not None and (now - effective_from).total_seconds() > 60:
            raise DomainError(
                "The date it takes effect must be today or in the future", field="effective_from"
            )
        effective_from = now
    before = in_force_at(name, effective_from)
    change = append_only.append(
        RuleChange(
            name=name,
            value=str(parsed),
            effective_from=effective_from,
            changed_by_id=by.id,
            changed_at=now,
            reason=reason,
        ),
        key_column=RuleChange.name,
        key=name,
        version=version,
        stale=lambda latest: _stale(definition, latest, parsed),
    )
    _forget_cached()
    when = "" if effective_from == now else f" from {effective_from:%Y-%m-%d %H:%M} UTC"
    audit.record(
        "rule_changed",
        change,
        user=by,
        detail=f"{name}: {definition.show(before)} -> {definition.show(parsed)}{when}",
    )
    return change


def _stale(definition: Rule, latest: RuleChange | None, yours) -> StaleEdit:
    theirs = definition.parse(latest.value) if latest is not None else definition.default
    differences = []
    if str(theirs) != str(yours):
        differences.append(
            Difference(definition.label, definition.show(theirs), definition.show(yours))
        )
    return StaleEdit(
        latest.changed_by.name if latest is not None else "Someone",
        latest.changed_at if latest is not None else None,
        differences,
        latest.sequence if latest is not None else 0,
    )
