"""Every email MAF sends, as data: what it is called, who gets it, what it may and may never
contain, and whether a person may turn it off.

It is the single list a council's IT and privacy officers can read ("Emails MAF sends", for
admins and coordinators), the source of the choices on each person's email preferences page,
and a check on the code: tests/notifications/test_catalogue.py reads every `outbox.enqueue`
in maf/ and fails when a dedupe-key prefix is not listed here, so no email is added silently.

A dedupe key's prefix is its text before the first value, e.g. "agenda:" of
f"agenda:{meeting.id}:v{version}:{email}".
"""

from dataclasses import dataclass

from maf.rules.words import Worded

# What no email body, subject or calendar invitation ever carries (issue 17, point 1).
NEVER_PERSONAL = (
    "No child's or family member's name, date of birth, address or case details in the "
    "subject, the body or a calendar invitation."
)


@dataclass(frozen=True)
class Setting:
    """A choice a person can make about optional emails (their email preferences page)."""

    key: str
    question: str
    choices: tuple[tuple[str, str], ...]  # (value, label), the default first
    hint: str = ""

    @property
    def default(self) -> str:
        return self.choices[0][0]

    def label_of(self, value: str) -> str:
        return dict(self.choices).get(value, "")


SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        Setting(
            "meeting_reminder",
            "Reminders the working day before a meeting",
            (("on", "Yes, remind me"), ("off", "No, I do not need these")),
        ),
        Setting(
            "answer_reminder",
            "A reminder when you have not said whether you will come to a meeting",
            (("on", "Yes, remind me"), ("off", "No, I do not need these")),
        ),
        Setting(
            "action_reminder",
            "Reminders about actions you own",
            (
                ("each", "An email for each action as it falls due, and when it is overdue"),
                ("digest", "One daily digest, on days when something is due or overdue"),
                ("none", "None"),
            ),
            hint="Whatever you choose, your actions are always listed under My actions.",
        ),
    )
}


@dataclass(frozen=True)
class Email:
    kind: str
    name: str  # as a person would call it
    prefixes: tuple[str, ...]
    recipients: str
    contains: str
    # Mandatory emails: why a person cannot turn them off. Optional: the setting that governs
    # them and the choice of that setting under which they are sent.
    why_always: str = ""
    setting: str = ""
    sent_when: str = ""
    area: str = ""

    @property
    def optional(self) -> bool:
        return bool(self.setting)

    @property
    def who_chooses(self) -> str:
        """Whether a person can turn it off, and how, as the catalogue page says it."""
        if not self.optional:
            return f"No. {self.why_always}"
        setting = SETTINGS[self.setting]
        if self.sent_when == setting.default:
            return f"Yes. Sent unless the person turns it off under “{setting.question}”."
        return (
            f"Yes. Sent only to those who choose “{setting.label_of(self.sent_when)}” under "
            f"“{setting.question}”."
        )


_MEETING = "Meetings"
_FOLLOW_UP = "After the meeting"
_ACCOUNT = "Your account"

CATALOGUE: tuple[Email, ...] = (
    # --- accounts ---------------------------------------------------------------------------
    Email(
        "account_invitation",
        "Invitation to create an account",
        ("invitation:",),
        "A person an administrator or coordinator invites",
        "The service's name, who invited them and a one-use link to set a password, valid for "
        "7 days. The link is erased from the service's copy once sent.",
        why_always="It is how an account is made.",
        area=_ACCOUNT,
    ),
    Email(
        "account_request",
        "A practitioner asks for an account",
        ("account-request:",),
        "The coordinators of the districts the requester's agency covers, and administrators",
        "The requester's name, organisation and agency, and a link to decide.",
        why_always="Someone is waiting for an answer.",
        area=_ACCOUNT,
    ),
    Email(
        "account_request_refused",
        "Account request refused",
        ("account-request-refused:",),
        "The practitioner who asked",
        "Who decided and the reason they gave.",
        why_always="It answers the person's own request.",
        area=_ACCOUNT,
    ),
    Email(
        "password_reset",
        "Reset your password",
        ("password-reset:",),
        "A person who asked to reset their password",
        "A one-use link valid for a short time, erased from the service's copy once sent.",
        why_always="You asked for it; it is how you get back into your account.",
        area=_ACCOUNT,
    ),
    Email(
        "password_reset_no_account",
        "You do not have an account",
        ("password-reset-no-account:",),
        "A forum member without an account who asked to reset a password",
        "That they have no account, and whom to ask for an invitation.",
        why_always="You asked for it.",
        area=_ACCOUNT,
    ),
    Email(
        "password_reset_sso",
        "Sign in with single sign-on",
        ("password-reset-sso:",),
        "A person who must use single sign-on and asked to reset a password",
        "How they sign in instead, with a link to the sign-in page.",
        why_always="You asked for it.",
        area=_ACCOUNT,
    ),
    Email(
        "two_step_reset",
        "Your two-step sign-in has been reset",
        ("two-step-reset:",),
        "A person whose two-step sign-in an administrator reset",
        "That it was reset and a link to sign in and set it up again.",
        why_always="It tells you of a change to how your account is protected.",
        area=_ACCOUNT,
    ),
    # --- meetings ---------------------------------------------------------------------------
    Email(
        "agenda",
        "Agenda, updated agenda, or meeting changed with its agenda",
        ("agenda:",),
        "The forum's members and chair, each time the agenda is circulated",
        "The forum, date, time, place and joining link, how many new cases and reviews, a link "
        "to the agenda behind sign-in, a calendar invitation and one-click links to say "
        "whether you will come; when the meeting moved, what changed (before and after) and "
        "why. The agenda document is attached only for agencies whose addresses are on the "
        "secure email domain list, with OFFICIAL-SENSITIVE in the subject.",
        why_always="Members must have the agenda to check their agency's records.",
        area=_MEETING,
    ),
    Email(
        "meeting_changed",
        "Meeting changed",
        ("meeting:",),
        "The forum's members and chair, when the meeting changes after its agenda went out",
        "What changed (before and after) and why, the updated calendar invitation and links to "
        "answer; when the date or time moved, a link to the updated agenda (the document "
        "itself only to secure email domains, marked OFFICIAL-SENSITIVE).",
        why_always="An invitation that no longer matches the meeting would mislead.",
        area=_MEETING,
    ),
    Email(
        "meeting_cancelled",
        "Meeting cancelled, or no longer invited",
        ("meeting-cancel:",),
        "Everyone holding an invitation to the meeting",
        "That the meeting is cancelled (and why) or that they are no longer invited, with a "
        "calendar cancellation.",
        why_always="It takes the meeting out of your calendar.",
        area=_MEETING,
    ),
    Email(
        "slot",
        "Your slot at a meeting",
        ("slot:",),
        "The practitioner presenting a case",
        "The time of their slot, the meeting, a calendar invitation for the slot and a link to "
        "the agenda; never which child.",
        why_always="You are presenting at the meeting.",
        area=_MEETING,
    ),
    Email(
        "slot_cancelled",
        "Slot cancelled",
        ("slot-cancel:",),
        "The practitioner whose slot was taken off or moved away",
        "The time of the slot that is cancelled, with a calendar cancellation.",
        why_always="It takes the slot out of your calendar.",
        area=_MEETING,
    ),
    Email(
        "circulate_reminder",
        "Agenda not yet circulated",
        ("reminder:circulate:",),
        "The forum's coordinator",
        "Which meeting, how many working days are left, and a link to build the agenda.",
        why_always="The members need the agenda in time; it is the coordinator's duty.",
        area=_MEETING,
    ),
    Email(
        "meeting_reminder",
        "Meeting tomorrow",
        ("reminder:members:",),
        "The forum's members and chair, the working day before",
        "The forum, time, place and joining link, and a link to the agenda behind sign-in.",
        setting="meeting_reminder",
        sent_when="on",
        area=_MEETING,
    ),
    Email(
        "answer_reminder",
        "Will you come? (reminder)",
        ("answer-reminder:",),
        "Members who have not answered the invitation, a number of working days before the "
        "meeting (a local rule)",
        "The forum, date and time, and links to say whether you will come.",
        setting="answer_reminder",
        sent_when="on",
        area=_MEETING,
    ),
    Email(
        "progress_request",
        "Progress update needed",
        ("progress:",),
        Worded("The {w.lead_professional} of a case due for review"),
        "The forum and date, the case's reference number and a link to the update form.",
        why_always="The forum needs the update to review the case.",
        area=_MEETING,
    ),
    # --- after the meeting ------------------------------------------------------------------
    Email(
        "minutes",
        "Minutes (and corrected minutes)",
        ("minutes:",),
        "The chair, and the forum's members who were at the meeting or sent apologies",
        "The forum, date and place, how many cases were minuted, and a link to the minutes "
        "behind sign-in. The minutes document is attached only for agencies whose addresses "
        "are on the secure email domain list, with OFFICIAL-SENSITIVE in the subject.",
        why_always="The minutes are the forum's record of what was agreed.",
        area=_FOLLOW_UP,
    ),
    Email(
        "actions",
        "Your actions from a meeting",
        ("actions:",),
        "Each owner of an open action from the meeting, once the minutes are circulated",
        "How many actions they have from the meeting and by when, and a link to their actions. "
        "Never what the action is: it could name a child.",
        why_always="You agreed to do something; this is how you hear of it.",
        area=_FOLLOW_UP,
    ),
    Email(
        "minutes_ready",
        "Minutes are ready",
        ("minutes-ready:",),
        Worded(
            "Those who own an action from the meeting or are the {w.lead_professional} of one "
            "of its cases, and are not sent the minutes: one email each"
        ),
        "That the minutes are ready, with links to their actions and the cases they lead; not "
        "the minutes, which name other children.",
        why_always="It tells you what the forum decided about your case or your actions.",
        area=_FOLLOW_UP,
    ),
    Email(
        "action_reminder",
        "Action due soon, or overdue",
        ("action-due:", "action-overdue:"),
        "Owners of open actions, a few working days before the due date and the working day "
        "after it passes",
        "The due date, the forum and meeting date, and a link to their actions; never what "
        "the action is.",
        setting="action_reminder",
        sent_when="each",
        area=_FOLLOW_UP,
    ),
    Email(
        "action_digest",
        "Your actions today (daily digest)",
        ("action-digest:",),
        "Owners of open actions who chose a daily digest, on days when some are due soon or "
        "overdue",
        "How many actions are due soon and overdue, with their dates, and a link to their "
        "actions; never what they are.",
        setting="action_reminder",
        sent_when="digest",
        area=_FOLLOW_UP,
    ),
)

BY_KIND: dict[str, Email] = {email.kind: email for email in CATALOGUE}
BY_PREFIX: dict[str, Email] = {prefix: email for email in CATALOGUE for prefix in email.prefixes}
AREAS = (_MEETING, _FOLLOW_UP, _ACCOUNT)


def mandatory() -> list[Email]:
    return [email for email in CATALOGUE if not email.optional]


def governed_by(setting: str) -> list[Email]:
    return [email for email in CATALOGUE if email.setting == setting]
