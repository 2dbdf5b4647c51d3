"""Building a meeting's agenda: adding, ordering and deferring items, timed slots,
capacity, and the reviews carried forward from earlier meetings."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.agendas.models import AgendaItem, ItemKind, ItemStatus
from maf.audit import services as audit
from maf.auth.models import User
from maf.cases import services as case_services
from maf.cases.models import Case, CaseStatus, Child
from maf.dbtypes import utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.forums.models import Meeting, MeetingStatus
from maf.forums.services import EDITABLE_STATUSES, next_meeting, previous_meeting
from maf.outcomes.models import ItemRecord
from maf.words import plural


class AgendaError(DomainError):
    """A rule about agendas refused the change."""


class NoRoom(AgendaError):
    """The meeting has the forum's number of new cases, or of reviews and sign-offs."""


class NoForumConsent(AgendaError):
    """The case has no consent in force to share it with the forum's members."""


# --- timed slots -------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    starts: time
    ends: time
    item: AgendaItem | None = None  # None for a break
    minutes: int = 0


def _at(day_start: datetime, minutes: int) -> time:
    return (day_start + timedelta(minutes=minutes)).time()


def compute_slots(
    start: time, durations: list[int], breaks: list[tuple[time, int]]
) -> list[tuple[int | None, time, time]]:
    """Times for items run back to back from `start`.

    A break is taken before the first item that would otherwise run past the break's start
    time (or start at it), so the forum never runs through a planned break. Returns
    (item index or None for a break, starts, ends) in order.
    """
    origin = datetime.combine(date.min, start)
    offsets = [
        (int((datetime.combine(date.min, at) - origin).total_seconds() // 60), minutes)
        for at, minutes in sorted(breaks)
        if at > start
    ]
    slots: list[tuple[int | None, time, time]] = []
    now = 0
    for index, duration in enumerate(durations):
        while offsets and now + duration > offsets[0][0]:
            _, break_minutes = offsets.pop(0)
            slots.append((None, _at(origin, now), _at(origin, now + break_minutes)))
            now += break_minutes
        slots.append((index, _at(origin, now), _at(origin, now + duration)))
        now += duration
    return slots


def _minutes(meeting: Meeting, item: AgendaItem) -> int:
    forum = meeting.forum
    return forum.new_case_minutes if item.kind == ItemKind.NEW_CASE else forum.review_minutes


@dataclass(frozen=True)
class TimedAgenda:
    meeting: Meeting
    slots: list[Slot]
    total_minutes: int
    new_cases: int
    reviews: int

    @property
    def ends(self) -> time:
        return self.slots[-1].ends if self.slots else self.meeting.start_time

    @property
    def new_case_capacity(self) -> int:
        return self.meeting.forum.new_case_capacity

    @property
    def review_capacity(self) -> int:
        return self.meeting.forum.review_capacity

    @property
    def warnings(self) -> list[str]:
        meeting = self.meeting
        warnings = []
        if self.total_minutes > meeting.length_minutes:
            over = self.total_minutes - meeting.length_minutes
            warnings.append(
                f"The agenda runs {plural(over, 'minute')} over the meeting's "
                f"{meeting.length_minutes} "
                f"minutes: move items to the next meeting"
            )
        if self.new_cases > self.new_case_capacity:
            warnings.append(
                f"{self.new_cases} new cases: more than the forum's {self.new_case_capacity}"
            )
        if self.reviews > self.review_capacity:
            warnings.append(
                f"{plural(self.reviews, 'review')}: more than the forum's {self.review_capacity}"
            )
        return warnings


def scheduled_items(meeting: Meeting) -> list[AgendaItem]:
    """Every item on the agenda, whether or not it may be shown to the members now."""
    return list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id, AgendaItem.status == ItemStatus.SCHEDULED)
            .options(
                selectinload(AgendaItem.case).selectinload(Case.child).selectinload(Child.school),
                selectinload(AgendaItem.case).selectinload(Case.referrer_agency),
                # Every reader asks may_share_with_forum of each item's case.
                selectinload(AgendaItem.case).selectinload(Case.consents),
            )
            .order_by(AgendaItem.position)
        )
    )


def items_without_consent(meeting: Meeting) -> list[AgendaItem]:
    """Items still on the agenda whose case may not be shown to the members now (withdrawing
    consent takes a case off, so these slipped through some other way): the builder shows them
    to the coordinator to take off, and circulation refuses to go while there are any."""
    return [
        item
        for item in scheduled_items(meeting)
        if not case_services.may_share_with_forum(item.case)
    ]


def withheld(items: list[AgendaItem]) -> list[AgendaItem]:
    """Those of `items` whose child the members may no longer be shown (consent to share lost
    after the meeting was held, so the items were not taken off): the record and the minutes
    say they were there without naming the child."""
    return [item for item in items if not case_services.may_share_with_forum(item.case)]


def timed_agenda(meeting: Meeting) -> TimedAgenda:
    """The agenda as the members may read it at this moment: only cases with consent to share
    with the forum in force (seed 003 §4.12), so a consent withdrawn after the agenda was
    built takes the child off every page and document made from it."""
    items = [
        item for item in scheduled_items(meeting) if case_services.may_share_with_forum(item.case)
    ]
    durations = [_minutes(meeting, item) for item in items]
    # The meeting's own breaks: a change to the forum's reaches it only when applied to it.
    breaks = [(b.starts_at, b.minutes) for b in meeting.breaks]
    slots = [
        Slot(
            starts,
            ends,
            items[index] if index is not None else None,
            durations[index] if index is not None else _span(starts, ends),
        )
        for index, starts, ends in compute_slots(meeting.start_time, durations, breaks)
    ]
    new_cases = sum(1 for item in items if item.kind == ItemKind.NEW_CASE)
    return TimedAgenda(
        meeting=meeting,
        slots=slots,
        total_minutes=sum(slot.minutes for slot in slots),
        new_cases=new_cases,
        reviews=len(items) - new_cases,
    )


def _span(starts: time, ends: time) -> int:
    return int(
        (datetime.combine(date.min, ends) - datetime.combine(date.min, starts)).total_seconds()
        // 60
    )


# --- changing the agenda -----------------------------------------------------------------


def _lock_agenda(meeting: Meeting) -> None:
    """Take the meeting's write lock before reading what is on its agenda.

    The UPDATE row-locks the meeting on PostgreSQL and takes SQLite's write lock, so two
    coordinators adding to the last free slot at once are served one after the other and
    the second sees the first's item.
    """
    try:
        db.session.execute(
            update(Meeting)
            .where(Meeting.id == meeting.id)
            .values(agenda_version=Meeting.agenda_version + 1)
            .execution_options(synchronize_session=False)
        )
    except OperationalError as error:
        # SQLite refuses a second writer whose snapshot is stale instead of queueing it;
        # anything else (a lost connection) is a real fault and is not dressed up.
        if "locked" not in str(error.orig):
            raise
        raise AgendaError(
            "Someone else changed this agenda at the same moment: look at it again and retry"
        ) from error


def _lock_case(case: Case) -> None:
    """Row-lock the case and re-read it, so the same case added to two meetings at once is
    judged on its status after the other coordinator's change."""
    db.session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(case)


def _require_editable(meeting: Meeting) -> None:
    if meeting.status not in EDITABLE_STATUSES:
        raise AgendaError(
            f"The agenda of a meeting that is {meeting.status.label.lower()} cannot be changed"
        )


def _count(meeting: Meeting, kinds) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AgendaItem)
        .where(
            AgendaItem.meeting_id == meeting.id,
            AgendaItem.status == ItemStatus.SCHEDULED,
            AgendaItem.kind.in_(kinds),
        )
    )


def _require_room(meeting: Meeting, kind: ItemKind) -> None:
    forum = meeting.forum
    if kind == ItemKind.NEW_CASE:
        if _count(meeting, [ItemKind.NEW_CASE]) >= forum.new_case_capacity:
            raise NoRoom(
                f"This meeting already has {plural(forum.new_case_capacity, 'new case')}, "
                f"the forum's limit: add the case to a later meeting"
            )
    elif _count(meeting, [ItemKind.REVIEW, ItemKind.SIGN_OFF]) >= forum.review_capacity:
        raise NoRoom(
            f"This meeting already has {plural(forum.review_capacity, 'review')}, the forum's "
            f"limit: add the review to a later meeting"
        )


def _require_eligible(meeting: Meeting, case: Case, kind: ItemKind) -> None:
    if case.district_id != meeting.forum.district_id:
        raise AgendaError("This case belongs to another district's forum")
    # Seed 003 §4.12: every discussion at the forum shares the assessment with its members.
    try:
        case_services.require_forum_sharing_consent(case)
    except case_services.CaseError as error:
        raise NoForumConsent(str(error)) from None
    if kind == ItemKind.NEW_CASE and case.status != CaseStatus.READY_FOR_FORUM:
        raise AgendaError(
            "Only a case that is ready for a forum (both checks done, consent to share) can be "
            f"added as a new case; this one is {case.status.label.lower()}"
        )
    if kind != ItemKind.NEW_CASE and case.status not in (CaseStatus.OPEN, CaseStatus.ON_AGENDA):
        raise AgendaError(
            f"Only an open case can be reviewed or signed off; this one is "
            f"{case.status.label.lower()}"
        )


def _place(
    meeting: Meeting,
    case: Case,
    kind: ItemKind,
    presenter_name: str,
    presenter_email: str,
    user: User,
    moved_from: AgendaItem | None = None,
) -> AgendaItem:
    """Add the item at the end; the caller holds the meeting's lock."""
    existing = db.session.scalar(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.case_id == case.id)
    )
    if existing is not None and existing.status == ItemStatus.SCHEDULED:
        raise AgendaError("This case is already on this meeting's agenda")
    _require_room(meeting, kind)
    last = db.session.scalar(
        select(func.max(AgendaItem.position)).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.status == ItemStatus.SCHEDULED
        )
    )
    item = existing or AgendaItem(meeting=meeting, case=case)
    item.kind, item.status, item.position = kind, ItemStatus.SCHEDULED, (last or 0) + 1
    item.status_reason = ""
    item.presenter_name, item.presenter_email = presenter_name.strip(), presenter_email.strip()
    item.added_by_id, item.moved_from = user.id, moved_from
    db.session.add(item)
    db.session.flush()
    return item


def add_to_agenda(
    meeting: Meeting,
    case: Case,
    kind: ItemKind,
    user: User,
    presenter_name: str = "",
    presenter_email: str = "",
    once: str | None = None,
) -> AgendaItem:
    """Put a case on the agenda; the gate and capacity are checked in the same transaction,
    under the meeting's lock and then the case's (always in that order). `once` is the add
    form's token: a repeat of the same add is answered as already saved, not refused."""
    _require_editable(meeting)
    submission = submissions.claim(once, "agenda_item", user)
    _lock_agenda(meeting)
    item = _add(meeting, case, kind, user, presenter_name, presenter_email)
    submissions.created(submission, item)
    db.session.commit()
    return item


def _add(
    meeting: Meeting,
    case: Case,
    kind: ItemKind,
    user: User,
    presenter_name: str = "",
    presenter_email: str = "",
) -> AgendaItem:
    """Add one case; the caller holds the meeting's lock. Every refusal is raised before
    anything is changed, so a caller adding several can go on with the next case."""
    _lock_case(case)
    _require_eligible(meeting, case, kind)
    if kind == ItemKind.NEW_CASE and not presenter_name.strip():
        presenter_name, presenter_email = case.referrer_name, case.referrer_email
    item = _place(meeting, case, kind, presenter_name, presenter_email, user)
    if kind == ItemKind.NEW_CASE:
        case_services.change_status(case, CaseStatus.ON_AGENDA, user, f"Meeting {meeting.id}")
    audit.record("agenda_item_added", meeting, user=user, detail=f"case {case.id}: {kind}")
    return item


# --- adding several at once --------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    case: Case
    kind: ItemKind
    reason: str  # short, for the summary ("no room")
    message: str  # the rule's own words, shown beside the case


@dataclass(frozen=True)
class Added:
    """What one "add several" or "fill" did: the items added and the cases it could not add,
    each with why (in the coordinator's words)."""

    items: list[AgendaItem]
    refused: list[Refusal]
    # Ids ticked that are not the district's cases (or no longer exist): refused unnamed.
    not_found: tuple[int, ...] = ()

    @property
    def summary(self) -> str:
        """'Added 10 new cases and 30 reviews; 2 ready cases did not fit: Amy Lee (case 4),
        Ben Ward (case 5).'"""
        counts = Counter(item.kind for item in self.items)
        added = [plural(counts[kind], noun) for kind, noun in _NOUNS.items() if counts[kind]]
        text = f"Added {_and(added)}" if added else "Nothing was added"
        by_reason: dict[tuple[ItemKind, str], list[Case]] = {}
        for refusal in self.refused:
            by_reason.setdefault((refusal.kind, refusal.reason), []).append(refusal.case)
        for (kind, reason), cases in by_reason.items():
            noun = _NOUNS[kind] if kind != ItemKind.NEW_CASE else "ready case"
            names = ", ".join(f"{case.child.full_name} (case {case.id})" for case in cases)
            verb = "did not fit" if reason == NO_ROOM else "could not be added"
            because = "" if reason == NO_ROOM else f" ({reason})"
            text += f"; {plural(len(cases), noun)} {verb}{because}: {names}"
        return text + "."


NO_ROOM = "no room"
_NOUNS = {ItemKind.NEW_CASE: "new case", ItemKind.REVIEW: "review", ItemKind.SIGN_OFF: "sign-off"}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class Choice:
    """A case to add, as what, and for a new case who presents it (its referrer if blank)."""

    case: Case
    kind: ItemKind
    presenter_name: str = ""
    presenter_email: str = ""


def add_several(
    meeting: Meeting,
    choices: list[Choice],
    user: User,
    once: str | None = None,
) -> Added:
    """Add each case chosen, in order, in one transaction under the meeting's lock.
    A case that cannot be added is refused with why and the others are still added: the
    coordinator ticked them all, and a full meeting should not cost the rest. `once` is the
    form's token, so the same form sent again adds nothing twice."""
    _require_editable(meeting)
    submission = submissions.claim(once, "agenda_items", user)
    _lock_agenda(meeting)
    result = _add_each(meeting, choices, user)
    submissions.created(submission, meeting)
    db.session.commit()
    return result


def add_selected(
    meeting: Meeting,
    kinds: dict[int, ItemKind],
    presenters: dict[int, tuple[str, str]],
    user: User,
    once: str | None = None,
) -> Added:
    """The cases ticked on the builder (by id, each as the kind chosen in its row, a new
    case with the presenter typed there), added in the page's order by add_several. Only the
    district's cases are looked up, so another district's id is refused without its child's
    name being read back."""
    found = db.session.scalars(
        select(Case)
        .where(Case.id.in_(kinds), Case.district_id == meeting.forum.district_id)
        .options(selectinload(Case.child))
    ).all()
    order = list(kinds)
    cases = sorted(found, key=lambda case: order.index(case.id))
    choices = [Choice(case, kinds[case.id], *presenters.get(case.id, ())) for case in cases]
    added = add_several(meeting, choices, user, once)
    found_ids = {case.id for case in cases}
    return replace(added, not_found=tuple(i for i in kinds if i not in found_ids))


def _add_each(meeting: Meeting, choices: list[Choice], user: User) -> Added:
    items, refusals = [], []
    for choice in choices:
        try:
            items.append(
                _add(
                    meeting,
                    choice.case,
                    choice.kind,
                    user,
                    choice.presenter_name,
                    choice.presenter_email,
                )
            )
        except AgendaError as error:
            refusals.append(Refusal(choice.case, choice.kind, _short(error), str(error)))
    return Added(items, refusals)


def _short(error: AgendaError) -> str:
    """The two refusals a fill meets by the dozen, in the summary's short words; any other
    as the rule says it."""
    if isinstance(error, NoRoom):
        return NO_ROOM
    if isinstance(error, NoForumConsent):
        return NO_FORUM_CONSENT
    return str(error)


def fill_with_due(meeting: Meeting, user: User, once: str | None = None) -> Added:
    """Fill the agenda with what is due, for the coordinator to trim: the ready cases,
    oldest assessment first, up to the forum's new-case capacity, each presented by its
    referrer; then every review due by this meeting (review_proposals) that may be shared
    with the forum, most overdue first, up to its review capacity — as a sign-off where the
    forum proposed closing the case at this review, as a review otherwise.

    One transaction under the meeting's lock; the lists are read after the lock is taken, so
    a second fill (or a repeat of this one) finds the first's items and adds nothing twice."""
    _require_editable(meeting)
    submission = submissions.claim(once, "agenda_fill", user)
    _lock_agenda(meeting)
    proposals = sorted(
        review_proposals(meeting),
        key=lambda p: (p.case.next_review_on or meeting.date, p.case.id),
    )
    reviews = [Choice(proposal.case, proposal.kind) for proposal in proposals]
    new_cases = [Choice(case, ItemKind.NEW_CASE) for case in ready_queue(meeting)]
    # New cases first: the forum hears them while everyone is fresh, reviews after. A case
    # without consent to share, or past the capacity, is refused by the same rules as one
    # added by hand, and said so.
    result = _add_each(meeting, new_cases + reviews, user)
    submissions.created(submission, meeting)
    db.session.commit()
    return result


NO_FORUM_CONSENT = "no consent in force to share it with the forum members"


def remove_from_agenda(item: AgendaItem, user: User) -> None:
    _require_editable(item.meeting)
    _lock_agenda(item.meeting)
    item.status = ItemStatus.REMOVED
    if item.kind == ItemKind.NEW_CASE and item.case.status == CaseStatus.ON_AGENDA:
        # Without consent to share the case is not ready for a forum, only checked.
        ready = case_services.may_share_with_forum(item.case)
        case_services.change_status(
            item.case,
            CaseStatus.READY_FOR_FORUM if ready else CaseStatus.CHECKED,
            user,
            "Taken off the agenda" if ready else "Taken off the agenda: no consent to share",
        )
    audit.record("agenda_item_removed", item.meeting, user=user, detail=f"case {item.case_id}")
    db.session.commit()


def take_off_for_withdrawn_consent(case: Case, reason: str, user: User) -> list[AgendaItem]:
    """Take the case off the agenda of every meeting not yet held, keeping each item as the
    agenda's history with `reason`. Returns the items taken off; the caller commits (with the
    consent's withdrawal, and the presenters' cancellations).

    "Held" is the recorded status, not the clock: a meeting that took place but whose record
    is not complete loses the item too, so its minutes never name the child; anything already
    typed about the item stays stored with it."""
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(
                AgendaItem.case_id == case.id,
                AgendaItem.status == ItemStatus.SCHEDULED,
                Meeting.status.in_(EDITABLE_STATUSES),
            )
            .order_by(Meeting.date)
        )
    )
    for item in items:
        # The agenda changed: its version moves on, so the builder says "changes not
        # circulated" and the next circulation sends the members the agenda without the child.
        _lock_agenda(item.meeting)
        item.status, item.status_reason = ItemStatus.CONSENT_WITHDRAWN, reason[:300]
        # Recorded as any taking off is, so the case's timeline shows it (with the reason).
        audit.record("agenda_item_removed", item.meeting, user=user, detail=f"case {case.id}")
    if case.status == CaseStatus.ON_AGENDA and any(i.kind == ItemKind.NEW_CASE for i in items):
        case_services.change_status(case, CaseStatus.CHECKED, user, reason)
    return items


def taken_off_for_withdrawn_consent(meeting: Meeting) -> list[AgendaItem]:
    """What the builder tells the coordinator: items this agenda lost to withdrawn consent."""
    return list(
        db.session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.meeting_id == meeting.id,
                AgendaItem.status == ItemStatus.CONSENT_WITHDRAWN,
            )
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )


def move_item(item: AgendaItem, offset: int, user: User) -> None:
    """Swap the item with its neighbour above (-1) or below (+1)."""
    _require_editable(item.meeting)
    _lock_agenda(item.meeting)
    items = scheduled_items(item.meeting)
    index = items.index(item)
    other = index + offset
    if 0 <= other < len(items):
        neighbour = items[other]
        item.position, neighbour.position = neighbour.position, item.position
        audit.record("agenda_reordered", item.meeting, user=user, detail=f"case {item.case_id}")
    db.session.commit()


def move_to_next_meeting(item: AgendaItem, user: User, commit: bool = True) -> AgendaItem:
    """Defer an item that does not fit; the old item keeps a link to where it went."""
    _require_editable(item.meeting)
    target = next_meeting(item.meeting)
    if target is None:
        raise AgendaError(
            "There is no later meeting of this forum to move it to: add the next meeting first"
        )
    _lock_agenda(item.meeting)
    _require_editable(target)
    _lock_agenda(target)
    moved = _place(
        target,
        item.case,
        item.kind,
        item.presenter_name,
        item.presenter_email,
        user,
        moved_from=item,
    )
    item.status = ItemStatus.MOVED
    audit.record(
        "agenda_item_moved",
        item.meeting,
        user=user,
        detail=f"case {item.case_id} to meeting {target.id}",
    )
    if commit:
        db.session.commit()
    return moved


# --- what could go on the agenda ---------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    case: Case
    reasons: tuple[str, ...]
    # A sign-off when the forum, at the case's last discussion, proposed closing it at this
    # review; a review otherwise.
    kind: ItemKind = ItemKind.REVIEW


def ready_queue(meeting: Meeting) -> list[Case]:
    """The district's cases that are ready for a forum, oldest assessment first."""
    return list(
        db.session.scalars(
            select(Case)
            .where(
                Case.district_id == meeting.forum.district_id,
                Case.status == CaseStatus.READY_FOR_FORUM,
            )
            .options(selectinload(Case.child))
            .order_by(Case.assessment_completed_on, Case.id)
        )
    )


def _on_this_agenda(meeting: Meeting) -> set[int]:
    return {item.case_id for item in scheduled_items(meeting)}


def review_proposals(meeting: Meeting) -> list[Proposal]:
    """Reviews carried forward: open cases due a review by this meeting, and every case
    discussed at the previous meeting (the lead professional reports back, seed 004)."""
    reasons: dict[int, list[str]] = {}
    due = db.session.scalars(
        select(Case.id).where(
            Case.district_id == meeting.forum.district_id,
            Case.status.in_([CaseStatus.OPEN, CaseStatus.ON_AGENDA]),
            Case.next_review_on <= meeting.date,
        )
    )
    for case_id in due:
        reasons.setdefault(case_id, []).append("Review due by this meeting")
    previous = previous_meeting(meeting)
    if previous is not None:
        for item in scheduled_items(previous):
            if item.case.status in (CaseStatus.OPEN, CaseStatus.ON_AGENDA):
                reasons.setdefault(item.case_id, []).append(
                    f"Discussed at the meeting on {previous.date:%-d %B %Y}"
                )
    for case_id in _on_this_agenda(meeting):
        reasons.pop(case_id, None)
    sign_offs = sign_offs_proposed(list(reasons))
    for case_id, on in sign_offs.items():
        reasons[case_id].append(f"Sign-off proposed at the meeting on {on:%-d %B %Y}")
    cases = db.session.scalars(
        select(Case)
        .where(Case.id.in_(reasons))
        .options(selectinload(Case.child), selectinload(Case.consents))
        .order_by(Case.id)
    )
    return [
        Proposal(
            case,
            tuple(reasons[case.id]),
            ItemKind.SIGN_OFF if case.id in sign_offs else ItemKind.REVIEW,
        )
        for case in cases
    ]


def sign_offs_proposed(case_ids: list[int]) -> dict[int, date]:
    """Of these cases, those whose last discussion (at a held meeting) proposed closing them
    at the next review, with that meeting's date. One query, whatever the number of cases."""
    latest: dict[int, tuple[date, bool]] = {}
    rows = db.session.execute(
        select(AgendaItem.case_id, Meeting.date, ItemRecord.sign_off_next)
        .join(ItemRecord, ItemRecord.agenda_item_id == AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id.in_(case_ids),
            Meeting.status.in_((MeetingStatus.HELD, MeetingStatus.MINUTES_CIRCULATED)),
            ItemRecord.outcome.is_not(None),
        )
        .order_by(Meeting.date, AgendaItem.id)
    )
    for case_id, on, sign_off in rows:
        latest[case_id] = (on, sign_off)
    return {case_id: on for case_id, (on, sign_off) in latest.items() if sign_off}


def sign_off_candidates(meeting: Meeting) -> list[Case]:
    """Open cases of the district that could be closed at this meeting."""
    on_agenda = _on_this_agenda(meeting)
    return [
        case
        for case in db.session.scalars(
            select(Case)
            .where(Case.district_id == meeting.forum.district_id, Case.status == CaseStatus.OPEN)
            .options(selectinload(Case.child), selectinload(Case.consents))
            .order_by(Case.id)
        )
        if case.id not in on_agenda
    ]
