"""Following actions up (issue 17, point 3): after the minutes are circulated, each action
owner hears how many actions they have and by when, and those who own an action or lead one of
the meeting's cases but are not sent the minutes hear that they are ready; then reminders as
actions fall due and when they are overdue, or a daily digest, as each person chose
(maf.notifications.services).

None of these emails says what an action is: descriptions are free text and could name a
child. They say how many, by when, from which forum's meeting, and link to the person's
actions behind sign-in.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from maf.agendas.models import AgendaItem
from maf.auth.models import User
from maf.auth.services import normalise_email
from maf.cases.deadlines import add_working_days, is_working_day
from maf.circulation import outbox
from maf.extensions import db
from maf.forums.models import Meeting
from maf.invitations.services import who_to_ask
from maf.notifications.catalogue import SETTINGS
from maf.notifications.services import choices_by_user
from maf.outcomes import services as outcomes
from maf.outcomes.models import Action, ActionStatus, LeadKind, Minutes
from maf.rules import services as rules

# Overdue actions further past due than this when the reminders run are left to the person's
# list of actions, so the first run after an outage or an upgrade sends no backlog.
OVERDUE_CATCH_UP_DAYS = 30


@dataclass
class _Person:
    """Someone an email goes to, with the open actions it is about."""

    email: str
    name: str
    actions: list[Action] = field(default_factory=list)
    leads: bool = False  # leads a case minuted at the meeting


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _accounts(emails: Iterable[str]) -> dict[str, User]:
    """The active accounts with these addresses, by lower-case address, in one query."""
    wanted = {normalise_email(email) for email in emails}
    if not wanted:
        return {}
    return {
        normalise_email(user.email): user
        for user in db.session.scalars(
            select(User).where(func.lower(User.email).in_(wanted), User.active)
        )
    }


def _by_owner(actions: Iterable[Action]) -> dict[str, _Person]:
    """Open actions by their owner's address: the one recorded, or their account's. An owner
    with neither (a parent, say) is told at the meeting and by their lead professional."""
    actions = list(actions)
    owner_ids = {a.owner_user_id for a in actions if not a.owner_email and a.owner_user_id}
    account_emails = (
        dict(db.session.execute(select(User.id, User.email).where(User.id.in_(owner_ids))).all())
        if owner_ids
        else {}
    )
    owners: dict[str, _Person] = {}
    for action in actions:
        address = action.owner_email or account_emails.get(action.owner_user_id, "")
        if not address:
            continue
        address = normalise_email(address)
        owners.setdefault(address, _Person(address, action.owner_name)).actions.append(action)
    return owners


def _due_dates(actions: list[Action]) -> list[tuple[date, int]]:
    """[(due date, how many actions due then)], soonest first."""
    return sorted(Counter(action.due_on for action in actions).items())


def _send(
    person: _Person,
    key: str,
    subject: str,
    template: str,
    *,
    signs_in: bool,
    meeting: Meeting | None = None,
    **context,
) -> bool:
    context = dict(
        person=person,
        meeting=meeting,
        signs_in=signs_in,
        actions_link=_link("/actions"),
        cases_link=_link("/my-cases"),
        preferences_link=_link("/account/emails"),
        contact=who_to_ask(meeting.forum) if meeting is not None else "",
        **context,
    )
    return (
        outbox.enqueue(
            dedupe_key=key,
            recipient_email=person.email,
            recipient_name=person.name,
            subject=subject,
            text_body=render_template(f"notifications/email/{template}.txt", **context),
            html_body=render_template(f"notifications/email/{template}.html", **context),
            meeting_id=meeting.id if meeting is not None else None,
            concerning={action.case.id: action.case for action in person.actions}.values(),
        )
        is not None
    )


def after_minutes_circulated(minutes: Minutes) -> int:
    """Tell each owner of the meeting's open actions how many they have and by when; and tell
    those who own an action or lead one of its cases, but are not sent the minutes (which name
    other children), that the minutes are ready: one email each, whichever they are. In the
    caller's transaction; returns how many emails were queued.

    The key of an owner's email is made from their actions and due dates, so circulating a
    corrected version tells them again only if what they own from the meeting changed.
    """
    # minutes.py calls this as it circulates, so it is imported here, not at the top.
    from maf.outcomes.minutes import minuted_items, minutes_recipients

    meeting = minutes.meeting
    day = f"{meeting.date:%-d %B %Y}"
    told = {normalise_email(person.email) for person in minutes_recipients(meeting)}
    owners = _by_owner(
        db.session.scalars(
            select(Action)
            .join(AgendaItem, Action.agenda_item_id == AgendaItem.id)
            .where(AgendaItem.meeting_id == meeting.id, Action.status == ActionStatus.OPEN)
            .options(selectinload(Action.case))
            .order_by(Action.due_on, Action.id)
        )
    )
    # Those the minutes do not go to, who own an action or lead a case: one email each.
    ready = {
        address: _Person(address, owner.name, owner.actions)
        for address, owner in owners.items()
        if address not in told
    }
    for lead in outcomes.current_leads([item.case for item in minuted_items(meeting)]).values():
        if lead.kind == LeadKind.PRACTITIONER and lead.email:
            address = normalise_email(lead.email)
            if address in owners:
                owners[address].leads = True
            if address not in told:
                ready.setdefault(address, _Person(address, lead.name)).leads = True
    accounts = _accounts([*owners, *ready])
    queued = 0
    for address, owner in owners.items():
        fingerprint = hashlib.sha256(
            ",".join(
                f"{a.id}:{a.due_on}" for a in sorted(owner.actions, key=lambda a: a.id)
            ).encode()
        ).hexdigest()[:16]
        queued += _send(
            owner,
            f"actions:{meeting.id}:{address}:{fingerprint}",
            f"Your actions from the {meeting.forum.name}, {day}",
            "actions",
            meeting=meeting,
            signs_in=address in accounts,
            due_dates=_due_dates(owner.actions),
        )
    for address, person in ready.items():
        queued += _send(
            person,
            f"minutes-ready:{meeting.id}:v{minutes.version}:{address}",
            f"Minutes ready: {meeting.forum.name}, {day}",
            "minutes_ready",
            meeting=meeting,
            signs_in=address in accounts,
            corrected=minutes.version > 1,
        )
    return queued


def queue_action_reminders(today: date) -> int:
    """The daily action reminders: to each owner who wants them, an email for each open action
    coming within `action_reminder_working_days` working days of its due date and one on the
    first working day after it (each once, per due date: a new due date reminds again); to
    those who chose the daily digest, one email on working days when something is due soon or
    overdue. A run missed (the server was down) is made up by the next one.

    Overdue actions more than OVERDUE_CATCH_UP_DAYS past due are left to the person's list of
    actions, so the first run after an outage or an upgrade does not send a backlog.
    """
    days = rules.current("action_reminder_working_days")
    horizon = add_working_days(today, days)
    rows = db.session.execute(
        select(Action, Meeting)
        .outerjoin(AgendaItem, Action.agenda_item_id == AgendaItem.id)
        .outerjoin(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(
            Action.status == ActionStatus.OPEN,
            Action.due_on <= horizon,
            Action.due_on >= today - timedelta(days=OVERDUE_CATCH_UP_DAYS),
        )
        .options(selectinload(Action.case), selectinload(Meeting.forum))
        .order_by(Action.due_on, Action.id)
    ).all()
    meeting_of = {action.id: meeting for action, meeting in rows}
    owners = _by_owner(action for action, _meeting in rows)
    accounts = _accounts(owners)
    choices = choices_by_user(accounts.values())
    default = SETTINGS["action_reminder"].default
    queued = 0
    for address, owner in owners.items():
        account = accounts.get(address)
        choice = choices[account.id]["action_reminder"] if account is not None else default
        due_soon = [a for a in owner.actions if a.due_on >= today]
        overdue = [a for a in owner.actions if add_working_days(a.due_on, 1) <= today]
        if choice == "each":
            queued += sum(
                _remind(
                    owner,
                    action,
                    meeting_of[action.id],
                    overdue=action in overdue,
                    signs_in=address in accounts,
                )
                for action in [*due_soon, *overdue]
            )
        elif choice == "digest" and (due_soon or overdue) and is_working_day(today):
            queued += _send(
                _Person(address, owner.name, [*due_soon, *overdue]),
                f"action-digest:{account.id}:{today.isoformat()}",
                _digest_subject(len(due_soon), len(overdue)),
                "action_digest",
                signs_in=True,
                due_soon=_due_dates(due_soon),
                overdue=_due_dates(overdue),
            )
    db.session.commit()
    return queued


def _remind(
    owner: _Person, action: Action, meeting: Meeting | None, *, overdue: bool, signs_in: bool
) -> bool:
    due = f"{action.due_on:%-d %B %Y}"
    return _send(
        _Person(owner.email, owner.name, [action]),
        f"action-overdue:{action.id}:{action.due_on.isoformat()}"
        if overdue
        else f"action-due:{action.id}:{action.due_on.isoformat()}",
        f"Action overdue: it was due on {due}" if overdue else f"Action due on {due}",
        "action_reminder",
        meeting=meeting,
        signs_in=signs_in,
        action=action,
        overdue=overdue,
    )


def _digest_subject(due_soon: int, overdue: int) -> str:
    parts = []
    if due_soon:
        parts.append(f"{due_soon} due soon")
    if overdue:
        parts.append(f"{overdue} overdue")
    return f"Your actions: {' and '.join(parts)}"
