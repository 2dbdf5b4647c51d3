"""Circulation that keeps children's data off email, gets answered and is followed up (issue 17,
"Done when"), lived in real Chromium against a real SMTP server (aiosmtpd) and a real IMAP
server (Debian's dovecot), with the app's clock moved on between steps.

The admin lists two secure email domains and sets the reminder to answer to 4 working days;
the coordinator circulates the agenda of a hybrid meeting with three children on it to the
forum's six members: the two on secure domains get the .docx attached (OFFICIAL-SENSITIVE in
the subject), the others a link to the page where they sign in (or, without an account, whom
to ask), and the deliveries page records which. Three members answer by the one-click link in
their email (opening it changes nothing until confirmed; one names a deputy; a forged link is
refused). Two answer from their calendar programs: an Outlook and a Google Calendar iTIP
REPLY placed in the organiser mailbox, which MAF's job reads over IMAP (down at its first run:
nothing is lost), leaving unread for people an ordinary email and a reply naming a member but
sent by someone else. One never answers and, on the rule's day and not the day before, is the
one person reminded. The coordinator sees who is coming; at the meeting the chair's attendance
page starts from the answers; afterwards the links have expired. After the minutes each action
owner gets exactly one email, and the owner who is not a member is told the minutes are ready.
No email subject, body or invitation in the whole story names a child, though the documents
attached for secure domains do.

Each step counts its assertions; the summary is printed at the end of the run.
"""

import html
import re
from collections import Counter
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from maf import jobs
from maf.agendas import services as agendas
from maf.agendas.models import AgendaItem, ItemKind
from maf.answers import mailbox
from maf.answers import services as answers
from maf.answers.models import Response
from maf.auth import services as auth_services
from maf.auth.models import Role
from maf.cases import services as cases
from maf.cases.deadlines import is_working_day, working_days_between
from maf.cases.models import (
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    MatchVerdict,
    SettingType,
    TierOutcome,
)
from maf.circulation import services as circulation
from maf.dbtypes import LONDON
from maf.directory.models import Agency, AgencyTier, AgencyType, District
from maf.extensions import db
from maf.forums import services as forums
from maf.forums.models import Meeting, MemberRole
from maf.outcomes import services as outcomes
from maf.outcomes.models import LeadKind, Outcome
from maf.rules import services as rules
from tests import imap_server as dovecot
from tests.conftest import PASSWORD
from tests.journeys.helpers import Journey, Mail, Mailboxes, browsers, press, record_item, words

FORUM = "Soar Valley multi-agency forum"
MEETING_DAY = date(2027, 1, 19)  # a Tuesday, 09:30
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_U29hclZhbGxleQ%40thread.v2/0"
ORGANISER = "soarvalley.forum@maf.example.org"  # the forum's shared organiser mailbox
COORDINATOR = ("Priya Shah", "priya.shah@charnwood.example.org")
CHAIR = ("Margaret Okafor", "margaret.okafor@chairs.example.org")
ADMIN = ("Alex Morgan", "alex.morgan@council.example.org")
SECURE_DOMAINS = ("nhs.net", "pnn.police.uk")
REMINDER_DAYS = 4  # the admin's choice (the rule's default is 3 working days)
# The six members: key -> (name, email, agency key, has an account).
MEMBERS = {
    "zoe": ("Zoë Brennan", "zoe.brennan@nhs.net", "health", True),
    "paul": ("Paul Dennis", "paul.dennis@pnn.police.uk", "police", True),
    "daniel": ("Daniel Kowalski", "d.kowalski@stmarys.example.org", "school", True),
    "ruth": ("Ruth Adebayo", "ruth.adebayo@brightstart.example.org", "charity", False),
    "harriet": ("Harriet Cole", "harriet.cole@housing.example.org", "housing", True),
    "omar": ("Omar Farouk", "omar.farouk@familyhub.example.org", "family_hub", False),
}
SECURE = ("zoe", "paul")
# Who presents the children (their referrers) and leads them; Hannah is not a member.
HANNAH = ("Hannah Price", "hannah.price@shepshed.example.org")
DEPUTY = "Sarah Whitlock"  # Daniel's deputy, named in his answer
# Invented children, whose names, dates of birth and postcodes no email may carry.
CHILDREN = {
    "tobias": ("Tobias", "Wrenfield", date(2014, 2, 11), Gender.MALE, "LE11 2XY", "daniel"),
    "maisie": ("Maisie", "Albright", date(2013, 9, 4), Gender.FEMALE, "LE12 5RT", "daniel"),
    "elsie": ("Elsie", "Carrowmore", date(2015, 6, 23), Gender.FEMALE, "LE11 9QJ", "hannah"),
}


imap_server = dovecot.imap_server  # the fixture: a real dovecot, for the organiser mailbox


@pytest.fixture
def organiser_mailbox(app, imap_server, monkeypatch):
    """The forum's organiser mailbox on a real IMAP server (dovecot), and MAF set to read it."""
    monkeypatch.setitem(app.config, "ORGANISER_MAILBOX_URL", imap_server.url)
    return imap_server


def test_circulation_is_secure_answered_and_followed_up(
    app,
    database,
    browser,
    live_server,
    smtp_server,
    organiser_mailbox,
    app_clock,
    journey,
    axe_source,
    monkeypatch,
):
    j = journey
    monkeypatch.setitem(app.config, "BASE_URL", live_server)  # emails' links lead back here
    mail = Mailboxes(smtp_server)
    with browsers(browser, live_server, axe_source) as person:
        _close_the_loop(j, app, app_clock, mail, person, monkeypatch, organiser_mailbox)
    j.fail_if_any_failed()


# --- the story ------------------------------------------------------------------------------------


def _close_the_loop(j: Journey, app, clock, mail: Mailboxes, person, monkeypatch, imap):
    clock.london(date(2026, 12, 14), 9, 0)
    world = _set_up_the_forum()
    meeting: Meeting = world["meeting"]
    admin = person(world["admin"])
    coordinator = person(world["coordinator"])
    people = {key: person(world[key]) for key, m in MEMBERS.items() if m[3]}

    # 1 -------------------------------------------------------------------------------------------
    with j.step("Admin lists the secure email domains"):
        _list_secure_domains(j, admin)

    with j.step("Admin sets the reminder to answer to 4 working days before a meeting"):
        page = admin.visit("/rules/answer_reminder_working_days")
        page.locator("#value").fill(str(REMINDER_DAYS))
        page.get_by_label("Why it is changing (optional)").fill("Time to find a deputy")
        press(page, "Save rule")
        j.contains(page.url, "/rules#answer_reminder_working_days", "after saving the rule")
        j.equal(rules.current("answer_reminder_working_days"), REMINDER_DAYS, "the rule in force")

    # 2 -------------------------------------------------------------------------------------------
    clock.london(date(2027, 1, 4), 10, 0)
    with j.step("Agenda circulated: the .docx to secure domains only, a link to the others"):
        coordinator.sign_in()
        coordinator.visit(f"/meetings/{meeting.id}/agenda/build")
        press(coordinator.page, "Circulate the agenda")
        arrived = mail.deliver()
        emails = {key: m[1] for key, m in MEMBERS.items()}
        # Each member and the chair: the agenda's email; the presenters: their slots (Daniel
        # presents Tobias and Maisie, Hannah, who is not a member, Elsie).
        j.equal(
            _counts(arrived),
            {**{address: 1 for address in emails.values()}, CHAIR[1]: 1, HANNAH[1]: 1}
            | {emails["daniel"]: 3},
            "emails per mailbox after the circulation",
        )
        agenda_mail = {}
        for key, address in emails.items():
            (got,) = [m for m in arrived[address] if _is_agenda(m)]
            agenda_mail[key] = got
        for key in SECURE:
            got = agenda_mail[key]
            j.check(
                got.subject.startswith("OFFICIAL-SENSITIVE"),
                f"{key}'s agenda subject is marked OFFICIAL-SENSITIVE: {got.subject!r}",
            )
            (filename,) = got.attachments
            j.check(
                "soar-valley" in filename and "2027-01-19" in filename,
                f"the attachment's name is the forum's and the date's: {filename}",
            )
            document = got.docx_text()
            for child in ("Tobias Wrenfield", "Maisie Albright", "Elsie Carrowmore"):
                j.contains(document, child, f"the agenda .docx attached for {key}")
        for key in set(MEMBERS) - set(SECURE):
            got = agenda_mail[key]
            j.equal(list(got.attachments), [], f"attachments of {key}'s agenda email")
            j.lacks(got.subject, "OFFICIAL-SENSITIVE", f"{key}'s agenda subject")
            if MEMBERS[key][3]:  # an account: the link to the agenda page, behind sign-in
                j.contains(got.text, f"/meetings/{meeting.id}/agenda", f"{key}'s agenda email")
            else:  # no account to sign in with: whom to ask
                j.contains(words(got.text), f"Ask {COORDINATOR[0]}", f"{key}'s agenda email")
            j.contains(got.text, "3 new cases", f"{key}'s agenda email says how many items")
        for key, got in agenda_mail.items():  # a hybrid meeting: how to join, everywhere
            j.contains(got.text, f"Join online: {TEAMS}", f"{key}'s agenda email")
            j.equal(got.event()["url"], TEAMS, f"the URL of {key}'s invitation")
        # The record of the circulation: which member got a link and which the document.
        page = coordinator.visit(f"/meetings/{meeting.id}/deliveries")
        carried = {
            key: words(
                page.get_by_role("row")
                .filter(has_text=address)
                .filter(has_text=re.compile("Agenda:"))
                .first.inner_text()
            )
            for key, address in emails.items()
        }
        for key, row in carried.items():
            j.contains(row, "Attached" if key in SECURE else "Link", f"{key}'s row of the record")
        j.contains(words(page.locator("#documents-sent").inner_text()), "2 attached", "the record")
        j.equal(coordinator.axe(), [], "axe-core on the deliveries page")

    with j.step("Daniel follows the link, signs in and reads the agenda"):
        daniel = people["daniel"]
        link = re.search(r"https?://\S+/meetings/\d+/agenda\b", agenda_mail["daniel"].text)
        j.check(link, "Daniel's email links to the agenda page")
        daniel.visit(link.group(0).replace(_origin(app), ""))
        j.contains(daniel.main(), "Tobias Wrenfield", "the agenda page Daniel signs in to")
        j.equal(daniel.axe(), [], "axe-core on the agenda page")

    # 3 -------------------------------------------------------------------------------------------
    clock.london(date(2027, 1, 5), 8, 15)
    with j.step("Three members answer by the link in their email; Daniel sends a deputy"):
        link_answers = {
            "paul": (Response.ATTENDING, ""),
            "daniel": (Response.DEPUTY, DEPUTY),
            "ruth": (Response.NOT_ATTENDING, ""),
        }
        for key, (response, deputy) in link_answers.items():
            name, email, _agency, _account = MEMBERS[key]
            # Ruth has no account: her link works in a browser that has never signed in.
            browser_of = people.get(key) or person(SimpleNamespace(name=name, email=email))
            _answer_by_link(j, meeting, browser_of, agenda_mail[key], response, deputy)
        db.session.expire_all()
        stored = {
            MEMBERS[key][1]: (response.value, deputy, "link")
            for key, (response, deputy) in link_answers.items()
        }
        j.equal(_answers(meeting), stored, "the answers stored after the links")
        j.equal(_counts(mail.deliver()), {}, "emails sent because members answered")
        # Omar's link with its signature altered: refused, and nothing changes.
        forger = person(SimpleNamespace(name="Someone", email="someone@example.org"))
        real = re.search(r"https?://\S+/answer/\S+", agenda_mail["omar"].text).group(0)
        response = forger.page.goto(real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"))
        j.equal(response.status, 400, "the status of a forged answer link")
        db.session.expire_all()
        j.equal(_answers(meeting), stored, "the answers after a forged link was opened")

    # 4 -------------------------------------------------------------------------------------------
    clock.london(date(2027, 1, 6), 14, 0)
    with j.step("Two answer from their calendar programs: REPLYs read from the IMAP mailbox"):
        _answer_from_calendars(j, app, meeting, agenda_mail, monkeypatch, imap)

    # 5 -------------------------------------------------------------------------------------------
    with j.step("One reminder, on the reminder day, to the member who never answered"):
        _remind(j, app, clock, meeting, mail, monkeypatch)

    # 6 -------------------------------------------------------------------------------------------
    with j.step("The coordinator sees who is coming"):
        _who_is_coming(j, coordinator, meeting)

    clock(meeting.starts_at)
    with j.step("At the meeting, the attendance page starts from the answers"):
        chair = person(world["chair"])
        chair.sign_in()
        _attendance_from_answers(j, chair, meeting, world)

    clock(meeting.starts_at + timedelta(minutes=meeting.length_minutes + 30))
    with j.step("Once the meeting is over, its answer links have expired"):
        answered = _answers(meeting)
        paul = people["paul"]
        response = paul.page.goto(_answer_link(agenda_mail["paul"], Response.NOT_ATTENDING))
        j.equal(response.status, 410, "the status of an answer link after the meeting")
        db.session.expire_all()
        j.equal(_answers(meeting), answered, "the answers after an expired link was opened")

    # 7 -------------------------------------------------------------------------------------------
    with j.step("Minutes circulated: one email per action owner; the non-member told too"):
        _follow_up(j, world, chair, mail)

    # 8 -------------------------------------------------------------------------------------------
    with j.step("No email subject, body or invitation names a child"):
        # Every email of the story: agendas, slots, reminders, minutes, actions, minutes ready.
        j.check(_emails_checked(mail) >= 20, f"{_emails_checked(mail)} emails were read")
        j.equal(_children_named(mail), [], "children named in any email")


# --- the world ------------------------------------------------------------------------------------


def _set_up_the_forum() -> dict:
    district = District(name="Charnwood", slug="charnwood")
    agencies = {
        "health": Agency(
            name="Leicestershire Partnership NHS Trust",
            type=AgencyType.HEALTH,
            tier=AgencyTier.UNIVERSAL,
        ),
        "police": Agency(
            name="Leicestershire Police", type=AgencyType.POLICE, tier=AgencyTier.UNIVERSAL
        ),
        "school": Agency(
            name="St Mary's Church of England Primary School",
            type=AgencyType.PRIMARY_SCHOOL,
            tier=AgencyTier.UNIVERSAL,
            districts=[district],
        ),
        "charity": Agency(
            name="Bright Start Families", type=AgencyType.VOLUNTARY, tier=AgencyTier.UNIVERSAL
        ),
        "housing": Agency(
            name="Charnwood Borough Council Housing",
            type=AgencyType.HOUSING,
            tier=AgencyTier.UNIVERSAL,
        ),
        "family_hub": Agency(
            name="Loughborough Family Hub",
            type=AgencyType.LOCAL_AUTHORITY,
            tier=AgencyTier.UNIVERSAL,
        ),
        "primary": Agency(
            name="Shepshed Orchard Primary School",
            type=AgencyType.PRIMARY_SCHOOL,
            tier=AgencyTier.UNIVERSAL,
            districts=[district],
        ),
    }
    db.session.add_all([district, *agencies.values()])
    db.session.flush()

    def user(name, email, role, agency=None):
        return auth_services.save_user(
            email=email,
            name=name,
            password=PASSWORD,
            roles=[role],
            districts=[district] if role == Role.COORDINATOR else [],
            agency=agency,
        )

    world = dict(
        district=district,
        agencies=agencies,
        admin=user(*ADMIN, Role.ADMIN),
        coordinator=user(*COORDINATOR, Role.COORDINATOR),
        chair=user(*CHAIR, Role.CHAIR),
    )
    for key, (name, address, agency, account) in MEMBERS.items():
        if account:
            world[key] = user(name, address, Role.PRACTITIONER, agencies[agency])
    db.session.commit()
    forum = forums.save_forum(
        None,
        forums.ForumDetails(
            district=district,
            name=FORUM,
            venue="Loughborough Council Offices, Room 2",
            chair=world["chair"],
            coordinator=world["coordinator"],
            week_of_month=3,
        ),
        world["coordinator"],
    )
    forum.organiser_email = ORGANISER
    for name, email, agency, _account in MEMBERS.values():
        forums.add_member(
            forum,
            name=name,
            email=email,
            agency=agencies[agency],
            role=MemberRole.STANDING,
            user=world["coordinator"],
        )
    meeting = forums.new_meeting(forum, MEETING_DAY)
    meeting.joining_link = TEAMS
    db.session.add(meeting)
    db.session.commit()
    world.update(forum=forum, meeting=meeting, cases={})
    for key, (given, family, born, gender, postcode, referrer) in CHILDREN.items():
        case = _ready_case(world, given, family, born, gender, postcode, referrer)
        world["cases"][key] = case
        agendas.add_to_agenda(meeting, case, ItemKind.NEW_CASE, world["coordinator"])
    return world


def _referrer(world, key) -> tuple[str, str, Agency, SettingType]:
    if key == "hannah":
        return (*HANNAH, world["agencies"]["primary"], SettingType.PRIMARY_SCHOOL)
    name, email, agency, _account = MEMBERS[key]
    return name, email, world["agencies"][agency], SettingType.PRIMARY_SCHOOL


def _ready_case(world, given, family, born, gender, postcode, referrer):
    name, email, agency, setting = _referrer(world, referrer)
    received = date(2026, 12, 7)
    common = dict(
        given=True,
        given_by=ConsentGiver.PARENT_CARER,
        given_by_name=f"Parent of {given}",
        given_on=received,
        method=ConsentMethod.WRITTEN,
    )
    case = cases.receive_caf(
        cases.ChildDetails(given, family, born, gender, postcode=postcode),
        cases.ReferralDetails(world["district"], name, email, agency, setting, received),
        [
            cases.ConsentDetails(kind=ConsentKind.UNDERTAKE, **common),
            cases.ConsentDetails(kind=ConsentKind.RECORD, **common),
            cases.ConsentDetails(kind=ConsentKind.SHARE, covers_forum=True, **common),
        ],
        world["coordinator"],
    )
    for candidate in case.match_candidates:
        cases.decide_candidate(case, candidate, MatchVerdict.DIFFERENT, world["coordinator"])
    cases.record_tier_outcome(case, TierOutcome.NONE_FOUND, "", world["coordinator"])
    cases.mark_ready_for_forum(case, world["coordinator"])
    return case


# --- steps' parts ---------------------------------------------------------------------------------


def _list_secure_domains(j: Journey, admin):
    """The admin adds the two domains on the secure email domains page."""
    admin.sign_in()
    for domain in SECURE_DOMAINS:
        page = admin.visit("/secure-email-domains")
        page.get_by_label("Email domain").fill(domain)
        press(page, "Add the domain")
    shown = words(admin.main())
    for domain in SECURE_DOMAINS:
        j.contains(shown, domain, "the secure email domains page")
    j.equal(admin.axe(), [], "axe-core on the secure email domains page")
    db.session.expire_all()
    j.equal(sorted(circulation.secure_domain_names()), sorted(SECURE_DOMAINS), "the domains listed")


def _answer_by_link(j: Journey, meeting, who, agenda_mail: Mail, response, deputy: str):
    """Open the answer's link from the email (its HTML part, as a member clicks it); the page
    asks to confirm, changing nothing until then; confirm (naming the deputy if sending one)."""
    url = _answer_link(agenda_mail, response)
    j.check(url, f"{who.name}'s agenda email has a link '{answers.LINK_LABELS[response]}'")
    j.contains(agenda_mail.text, url, f"{who.name}'s agenda email (plain text)")
    before = _answers(meeting)
    who.page.goto(url)
    db.session.expire_all()
    j.equal(_answers(meeting), before, f"the answers after {who.name} only opened the link")
    shown = words(who.main())
    j.contains(shown, "19 January 2027", f"the page {who.name}'s link opens")
    j.equal(who.axe(), [], f"axe-core on the page {who.name}'s link opens")
    if deputy:
        who.page.get_by_label("Name of your deputy").fill(deputy)
    press(who.page, f"Confirm: {answers.LINK_LABELS[response]}")
    j.contains(words(who.main()), "Thank you", f"{who.name}'s page after answering")


def _answer_from_calendars(j: Journey, app, meeting, agenda_mail: dict, monkeypatch, imap):
    """Zoë's Outlook accepts and Harriet's Google Calendar declines the invitation each
    received: each program sends its REPLY to the ORGANIZER, the forum's organiser mailbox,
    where MAF's scheduled job reads it over IMAP."""
    replies = {
        "zoe": (outlook_reply, "ACCEPTED", "20270106T110213Z"),
        "harriet": (google_reply, "DECLINED", "20270106T124055Z"),
    }
    for key, (program, partstat, stamp) in replies.items():
        name, email, _agency, _account = MEMBERS[key]
        event = agenda_mail[key].event()
        j.equal(event["organizer"]["email"], ORGANISER, f"the organiser of {key}'s invitation")
        j.check(
            any(a["email"] == email for a in event["attendees"]),
            f"{key}'s invitation names {key} as an attendee",
        )
        imap.append(program(event, (name, email), partstat, stamp))
    # A reply naming Omar, written by someone else: anyone can email the organiser mailbox.
    forged = google_reply(
        agenda_mail["omar"].event(),
        (MEMBERS["omar"][0], MEMBERS["omar"][1]),
        "ACCEPTED",
        "20270106T130000Z",
        sender=("Someone", "someone@elsewhere.example.com"),
    )
    imap.append(forged)
    # Something that is not an answer, left for the coordinators to read.
    note = EmailMessage()
    note["From"] = "Ruth Adebayo <ruth.adebayo@brightstart.example.org>"
    note["To"] = ORGANISER
    note["Subject"] = "Parking at the council offices"
    note.set_content("Is there parking on the day?\n")
    imap.append(note.as_bytes())
    before = _answers(meeting)
    # The mail server is down when the scheduled job first runs: nothing changes, nothing lost.
    imap.stop()
    _run_job(app, monkeypatch, "read_organiser_mailbox")
    j.equal(_answers(meeting), before, "the answers while the organiser mailbox is down")
    imap.start()
    j.equal(
        [m.seen for m in imap.messages()], [False] * 4, "the mailbox's messages, all still unread"
    )
    run = mailbox.read_organiser_mailbox()  # the scheduled job's next run, with its report
    db.session.expire_all()
    j.equal(
        (run.reachable, dict(run.outcomes)),
        (
            True,
            {
                mailbox.Outcome.APPLIED: 2,
                mailbox.Outcome.NOT_FROM_ATTENDEE: 1,
                mailbox.Outcome.NOT_A_REPLY: 1,
            },
        ),
        "the mailbox read: replies applied, the forged one and the note left for people",
    )
    stored = _answers(meeting)
    j.equal(
        {MEMBERS[key][1]: stored.get(MEMBERS[key][1]) for key in replies},
        {
            MEMBERS["zoe"][1]: (Response.ATTENDING.value, "", "calendar"),
            MEMBERS["harriet"][1]: (Response.NOT_ATTENDING.value, "", "calendar"),
        },
        "the answers read from the calendar replies",
    )
    j.equal(len(stored), len(before) + 2, "answers stored after the mailbox was read")
    seen = {_subject(m.raw): m.seen for m in imap.messages()}
    j.equal(
        seen.get("Parking at the council offices"),
        False,
        "the email that is not an answer, still unread for the coordinators",
    )
    j.equal(
        sorted(seen.values()), [False, False, True, True], "only the replies applied marked read"
    )
    # Read again (the next scheduled run): nothing is applied twice, nothing changes.
    _run_job(app, monkeypatch, "read_organiser_mailbox")
    j.equal(_answers(meeting), stored, "the answers after the mailbox was read again")
    j.equal({_subject(m.raw): m.seen for m in imap.messages()}, seen, "the mailbox after that run")


def _subject(raw: bytes) -> str:
    return str(message_from_bytes(raw, policy=policy.default)["Subject"])


def _run_job(app, monkeypatch, name: str):
    """Run a scheduled job's function as the scheduler would (maf/jobs.py)."""
    monkeypatch.setattr(jobs, "_app", app)
    getattr(jobs, name)()
    db.session.expire_all()


def _remind(j: Journey, app, clock, meeting, mail: Mailboxes, monkeypatch):
    """The reminder goes the rule's working days before the meeting, to Omar only."""
    days = REMINDER_DAYS
    reminder_day = next(
        d
        for d in (MEETING_DAY - timedelta(days=n) for n in range(1, 30))
        if working_days_between(d, MEETING_DAY) == days and is_working_day(d)
    )
    day_before = reminder_day - timedelta(days=1)
    while not is_working_day(day_before):
        day_before -= timedelta(days=1)
    clock.london(day_before, 7, 30)
    _run_job(app, monkeypatch, "send_reminders")
    j.equal(dict(mail.deliver()), {}, f"emails on {day_before:%-d %B}, the working day before")
    clock.london(reminder_day, 7, 30)
    _run_job(app, monkeypatch, "send_reminders")
    arrived = mail.deliver()
    omar = MEMBERS["omar"][1]
    j.equal(
        {address: len(mails) for address, mails in arrived.items()},
        {omar: 1},
        f"emails on {reminder_day:%-d %B}, {days} working days before the meeting",
    )
    (reminder,) = arrived.get(omar, [None])
    j.check(
        reminder.dedupe_key.startswith("answer-reminder:"),
        f"Omar's email is the answer reminder: {reminder.dedupe_key}",
    )
    j.contains(words(reminder.text), "19 January 2027", "the reminder")
    for label in answers.LINK_LABELS.values():
        j.contains(reminder.text, label, "the reminder's answer links")
    _run_job(app, monkeypatch, "send_reminders")
    j.equal(dict(mail.deliver()), {}, "emails when the reminders run again that day")


def _who_is_coming(j: Journey, coordinator, meeting):
    page = coordinator.visit(f"/meetings/{meeting.id}/answers")
    shown = words(coordinator.main())
    for key, said in (
        ("zoe", "Attending"),
        ("paul", "Attending"),
        ("daniel", DEPUTY),
        ("ruth", "Not attending"),
        ("harriet", "Not attending"),
    ):
        row = words(page.get_by_role("row").filter(has_text=MEMBERS[key][0]).first.inner_text())
        j.contains(row, said, f"{MEMBERS[key][0]}'s row on the who-is-coming page")
    row = words(page.get_by_role("row").filter(has_text=MEMBERS["omar"][0]).first.inner_text())
    j.contains(row.lower(), "not answered", "Omar's row on the who-is-coming page")
    j.contains(shown, "Calendar", "where Zoë's and Harriet's answers came from")
    j.equal(coordinator.axe(), [], "axe-core on the who-is-coming page")


def _attendance_from_answers(j: Journey, chair, meeting, world):
    """The chair opens the attendance page: it starts from the answers; saved as it stands,
    the record holds them (the deputy among the guests)."""
    page = chair.visit(f"/meetings/{meeting.id}/record/attendance")
    members = {m.email: m for m in forums.active_members(world["forum"])}
    expected = {
        "zoe": "present",
        "paul": "present",
        "daniel": "apologies",
        "ruth": "apologies",
        "harriet": "apologies",
        "omar": None,
    }

    def chosen(member):
        checked = page.locator(f'input[name="member-{member.id}"]:checked')
        return checked.get_attribute("value") if checked.count() else None

    j.equal(
        {key: chosen(members[MEMBERS[key][1]]) for key in expected},
        expected,
        "the attendance the page starts with",
    )
    guests = page.get_by_label(re.compile("Guests")).input_value()
    j.contains(guests, DEPUTY, "the guests the page starts with (Daniel's deputy)")
    j.equal(chair.axe(), [], "axe-core on the attendance page")
    press(page, "Save attendance")
    db.session.expire_all()
    stored = {(a.name, a.status.value) for a in outcomes.attendance_of(meeting)}
    deputies = {(name, status) for name, status in stored if name.startswith(DEPUTY)}
    j.equal(
        stored - deputies,
        {(MEMBERS[k][0], v) for k, v in expected.items() if v},
        "the members' attendance recorded (Omar's left for the chair to say)",
    )
    j.equal([status for _name, status in deputies], ["present"], "Daniel's deputy, a guest")


def _follow_up(j: Journey, world, chair, mail: Mailboxes):
    """Record the three items with actions for Daniel (a member) and Hannah (not a member, the
    lead professional of one child), complete the record, approve and circulate the minutes."""
    meeting = world["meeting"]
    daniel = _person_details(world, "daniel")
    hannah = _person_details(world, "hannah")
    plans = {
        "tobias": (daniel, [daniel]),
        "maisie": (daniel, [daniel, hannah]),
        "elsie": (hannah, [hannah]),
    }
    for key, (lead, owners) in plans.items():
        record_item(
            _item(meeting, world["cases"][key]),
            outcomes.ItemDetails(
                outcome=Outcome.CONTINUE,
                discussion=f"{CHILDREN[key][0]} is settling; the plan goes on.",
                next_review_on=date(2027, 4, 13),
                lead=outcomes.LeadDetails(LeadKind.PRACTITIONER, lead[0], True, lead[1], lead[2]),
                actions=[
                    outcomes.ActionDetails(
                        # Actions often name their child: no email may say what they are.
                        f"Step {n} of {CHILDREN[key][0]} {CHILDREN[key][1]}'s plan",
                        owner[0],
                        date(2027, 3, 31),
                        owner[1],
                        owner[2],
                    )
                    for n, owner in enumerate(owners, 1)
                ],
            ),
            world["chair"],
        )
    chair.visit(f"/meetings/{meeting.id}/record")
    press(chair.page, "Complete the meeting record")
    j.contains(chair.main(), "The record is complete", "the chair's meeting record")
    j.equal(_counts(mail.deliver()), {}, "emails sent as the record was completed")
    chair.visit(f"/meetings/{meeting.id}/minutes")
    press(chair.page, "Approve version 1")
    press(chair.page, "Circulate version 1")
    j.contains(chair.main(), "The minutes are on their way", "the minutes page")
    arrived = mail.deliver()
    # The minutes to the chair and the members present or who sent apologies (seed 004: not
    # Omar, whose attendance the chair left unrecorded); one action email to each owner; and
    # to Hannah, who is not sent the minutes, word that they are ready.
    told = {m[1] for key, m in MEMBERS.items() if key != "omar"} | {CHAIR[1]}
    j.equal(
        _counts(arrived),
        {address: 1 for address in told} | {daniel[1]: 2, hannah[1]: 2},
        "emails per mailbox after the minutes",
    )
    by_kind = Counter(
        (address, m.dedupe_key.split(":", 1)[0])
        for address, mails in arrived.items()
        for m in mails
    )
    owners = {daniel[1], hannah[1]}
    j.equal(
        {address: n for (address, kind), n in by_kind.items() if kind == "actions"},
        {address: 1 for address in owners},
        "action emails per person (Daniel owns two actions, Hannah two)",
    )
    j.equal(
        {address: n for (address, kind), n in by_kind.items() if kind == "minutes-ready"},
        {hannah[1]: 1},
        "minutes-ready emails (Hannah leads a child and owns actions, and is not a member)",
    )
    for address in owners:
        (actions_mail,) = [m for m in arrived[address] if m.dedupe_key.startswith("actions:")]
        j.contains(words(actions_mail.text), "2 actions", f"the action email to {address}")
        j.contains(words(actions_mail.text), "31 March 2027", f"the action email to {address}")
    zoe_minutes = [m for m in arrived[MEMBERS["zoe"][1]] if m.attachments]
    j.equal(len(zoe_minutes), 1, "the minutes attached for Zoë (a secure domain)")
    j.contains(zoe_minutes[0].docx_text(), "Tobias Wrenfield", "the minutes attached for Zoë")
    ruth_minutes = arrived[MEMBERS["ruth"][1]]
    j.equal(
        [m.attachments for m in ruth_minutes], [{}], "the minutes email to Ruth: a link, no file"
    )


def _person_details(world, key) -> tuple[str, str, Agency]:
    name, email, agency, _setting = _referrer(world, key)
    return name, email, agency


def _answer_link(mail: Mail, response) -> str | None:
    """The address of the email's link for this answer (in its HTML, where a member clicks)."""
    label = re.escape(answers.LINK_LABELS[response])
    found = re.search(rf'<a href="([^"]+)">\s*{label}\s*</a>', mail.html)
    return html.unescape(found.group(1)) if found else None


def _answers(meeting) -> dict[str, tuple[str, str, str]]:
    """Each stored answer: address -> (response, deputy's name, where it came from)."""
    return {
        email: (answer.response.value, answer.deputy_name, answer.source.value)
        for email, answer in answers.answers_by_email(meeting).items()
    }


def _is_agenda(mail: Mail) -> bool:
    return "agenda" in mail.subject.lower() and not mail.subject.startswith("Your slot")


def _origin(app) -> str:
    return app.config["BASE_URL"].rstrip("/")


def _item(meeting, case) -> AgendaItem:
    return db.session.scalar(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id, AgendaItem.case_id == case.id)
    )


def _counts(arrived: dict[str, list[Mail]]) -> dict[str, int]:
    return {address: len(mails) for address, mails in arrived.items() if mails}


def _emails_checked(mail: Mailboxes) -> int:
    return sum(len(mails) for mails in mail.inbox.values())


def _children_named(mail: Mailboxes) -> list[str]:
    """Each child's name, date of birth or postcode found in any email's subject, text or HTML
    body or calendar invitation (attachments to secure domains may name them)."""
    found = Counter()
    for mails in mail.inbox.values():
        for m in mails:
            text = " ".join(
                [m.subject, m.text, m.html, (m.calendar or b"").decode("utf-8", "replace")]
            )
            flat = re.sub(r"\s+", " ", text.replace("\r\n ", "")).lower()
            for given, family, born, _gender, postcode, _referrer in CHILDREN.values():
                for fragment in (
                    given,
                    family,
                    postcode,
                    f"{born:%d/%m/%Y}",
                    f"{born:%-d %B %Y}",
                    born.isoformat(),
                    f"{born:%Y%m%d}",
                ):
                    if fragment.lower() in flat:
                        found[f"{fragment} (to {m.to}: {m.subject})"] += 1
    return sorted(found)


# --- calendar programs' answers (RFC 5546 iTIP REPLY, as each program writes it) -----------------


def _fold(lines: list[str]) -> str:
    """Content lines joined with CRLF, each folded at 75 octets (RFC 5545 §3.1)."""
    out = []
    for line in lines:
        data = line.encode()
        while len(data) > 75:
            cut = 75
            while (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 character
                cut -= 1
            out.append(data[:cut].decode())
            data = b" " + data[cut:]
        out.append(data.decode())
    return "\r\n".join(out) + "\r\n"


def outlook_reply(event: dict, attendee: tuple[str, str], partstat: str, stamp: str) -> bytes:
    """Outlook (Exchange) accepting: METHOD:REPLY in the calendar and as the MIME method, a
    Windows time zone, X-MICROSOFT-CDO-* properties ([MS-OXCICAL] 2.1.3.1.1.20), MAILTO in
    capitals with the address as the user's directory spells it, and the calendar part
    base64-encoded inside multipart/alternative."""
    name, address = attendee
    local, domain = address.split("@")
    address = f"{local.title()}@{domain}"  # Zoe.Brennan@nhs.net: the directory's spelling
    verb = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}[partstat]
    start, end = (_local(event[part]) for part in ("start", "end"))
    calendar = _fold(
        [
            "BEGIN:VCALENDAR",
            "METHOD:REPLY",
            "PRODID:Microsoft Exchange Server 2010",
            "VERSION:2.0",
            "BEGIN:VTIMEZONE",
            "TZID:GMT Standard Time",
            "BEGIN:STANDARD",
            "DTSTART:16010101T020000",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0000",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:16010101T010000",
            "TZOFFSETFROM:+0000",
            "TZOFFSETTO:+0100",
            "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            f'ATTENDEE;PARTSTAT={partstat};CN="{name}":MAILTO:{address}',
            "COMMENT;LANGUAGE=en-GB:\\n",
            f"SUMMARY;LANGUAGE=en-GB:{verb}: {_text(event['summary'])}",
            f"DTSTART;TZID=GMT Standard Time:{start}",
            f"DTEND;TZID=GMT Standard Time:{end}",
            f"UID:{event['uid']}",
            "CLASS:PUBLIC",
            "PRIORITY:5",
            f"DTSTAMP:{stamp}",
            "TRANSP:OPAQUE",
            "STATUS:CONFIRMED",
            f"SEQUENCE:{event['sequence']}",
            f"LOCATION;LANGUAGE=en-GB:{_text(event['location'])}",
            f"X-MICROSOFT-CDO-APPT-SEQUENCE:{event['sequence']}",
            f"X-MICROSOFT-CDO-REPLYTIME:{stamp}",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = ORGANISER
    message["Subject"] = f"{verb}: {event['summary']}"
    message["Date"] = "Wed, 06 Jan 2027 11:02:13 +0000"
    message["Message-ID"] = f"<{stamp}.outlook@{address.split('@')[1]}>"
    message["Thread-Topic"] = event["summary"]
    message.set_content(f"{name} has {verb.lower()} this meeting.\n")
    message.add_alternative(
        calendar.encode(),
        "text",
        "calendar",
        params={"charset": "utf-8", "method": "REPLY"},
        cte="base64",
    )
    return message.as_bytes()


def google_reply(
    event: dict, attendee: tuple[str, str], partstat: str, stamp: str, sender=None
) -> bytes:
    """Google Calendar declining: UTC times, X-NUM-GUESTS, a 7bit text/calendar part beside
    the HTML, and the same calendar again as an invite.ics attachment (application/ics).
    Sent from the attendee's address unless `sender` (name, address) says otherwise."""
    name, address = attendee
    sender_name, sender_address = sender or attendee
    verb = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Maybe"}[partstat]
    utc = {part: _utc(event[part]) for part in ("start", "end")}
    calendar = _fold(
        [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:REPLY",
            "BEGIN:VEVENT",
            f"DTSTART:{utc['start']}",
            f"DTEND:{utc['end']}",
            f"DTSTAMP:{stamp}",
            f"ORGANIZER;CN={FORUM} coordinator:mailto:{ORGANISER}",
            f"UID:{event['uid']}",
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT={partstat};CN={name};X-NUM-GUESTS=0:mailto:{address}",
            f"CREATED:{stamp}",
            f"LAST-MODIFIED:{stamp}",
            f"LOCATION:{_text(event['location'])}",
            f"SEQUENCE:{event['sequence']}",
            "STATUS:CONFIRMED",
            f"SUMMARY:{_text(event['summary'])}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )
    message = EmailMessage()
    message["From"] = f"{sender_name} <{sender_address}>"
    message["To"] = ORGANISER
    message["Subject"] = f"{verb}: {event['summary']} @ Tue 19 Jan 2027 09:30 - 13:30 (GMT)"
    message["Date"] = "Wed, 06 Jan 2027 12:40:55 +0000"
    message["Message-ID"] = f"<calendar-{stamp}@google.com>"
    message["Reply-To"] = f"{sender_name} <{sender_address}>"
    message.set_content(f"{name} has {verb.lower()} this invitation.\n")
    message.add_alternative(
        f"<p>{html.escape(name)} has {verb.lower()} this invitation.</p>\n", "html"
    )
    message.add_alternative(
        calendar.encode(),
        "text",
        "calendar",
        params={"charset": "utf-8", "method": "REPLY"},
        cte="7bit",
    )
    message.add_attachment(
        calendar.encode(), "application", "ics", filename="invite.ics", cte="base64"
    )
    return message.as_bytes()


def _text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545 §3.3.11)."""
    return (
        (value or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def _local(moment: str) -> str:
    """ical.js's ISO instant as the wall-clock time in England, iCalendar's basic form."""
    return (
        datetime.fromisoformat(moment.replace("Z", "+00:00"))
        .astimezone(LONDON)
        .strftime("%Y%m%dT%H%M%S")
    )


def _utc(moment: str) -> str:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).strftime("%Y%m%dT%H%M%SZ")
