"""A council's first day (issue 15, "Done when"), lived in real Chromium from an empty database.

One administrator is made on the command line; from then on everything happens in browsers,
one per person: the admin sets up a district and its agencies, invites a coordinator, a chair
and three practitioners (each accepts from the emailed link in a browser of their own: three
choose a password, two sign in through a real OpenID provider, npm oidc-provider), changes the
review interval, the first-meeting timescale and the words the service uses to the Families
First ones, and sets up the forum with its members, one of whom has no account and is invited
from the forum's page ("Invite to EHP", the forum's short word now). Then the coordinator
records two assessments (one before the rules changed, one after), builds and circulates the
agenda, and the chair records the meeting and circulates the minutes.

It proves that every page visited, every email received, the calendar invitation (ical.js) and
the agenda and minutes documents use the new words and not the seeds' ones, that the review
date the forum is offered follows the new interval, and that a deadline computed before the
change is not rewritten. The service's own name (config SERVICE_NAME, "Multi-agency forums"
by default) is a deployment setting, not a local rule, so it is not counted as an old word; a
status change recorded before the change keeps the words it was recorded with. Each step
counts its assertions; the summary is printed at the end.
"""

import re
from datetime import date
from functools import partial
from types import SimpleNamespace

import pyotp
from flask import current_app
from playwright.sync_api import expect
from sqlalchemy import func, select

from maf.auth.models import Role, User
from maf.cases.models import Case, CaseStatus
from maf.circulation.models import OutboxMessage
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.forums.models import Forum, Meeting
from maf.invitations import services as invitations
from maf.outcomes import services as outcomes
from maf.rules import services as rules
from maf.rules.services import Interval
from tests.browser.test_intake_browser import _choose, _fill_date
from tests.conftest import PASSWORD
from tests.journeys.helpers import Journey, Mailboxes, Person, browsers, press, words
from tests.sso import oidc
from tests.sso.oidc import CALLBACK_PATH, sign_in_at_the_provider

# The provider's fixtures (tests/sso/oidc.py), for this journey too.
oidc_provider = oidc.oidc_provider
use_sso = oidc.use_sso

ADMIN = ("Alex Morgan", "alex.morgan@council.example.org")
COORDINATOR = ("Priya Shah", "priya.shah@council.example.org")
CHAIR = ("Margaret Okafor", "margaret.okafor@chairs.example.org")
DANIEL = ("Daniel Kowalski", "d.kowalski@woodgate.example.org")  # sets a password
ZOE = ("Zoe Brennan", "zoe.brennan@nhs.example.org")  # single sign-on
PAUL = ("Paul Dennis", "paul.dennis@police.example.org")  # single sign-on
HARRIET = ("Harriet Cole", "harriet.cole@housing.example.org")  # a member, invited from the forum
SCHOOL, HEALTH, POLICE, HOUSING = (
    "Loughborough Woodgate High School",
    "Leicestershire Partnership NHS Trust",
    "Leicestershire Police",
    "Charnwood Borough Council Housing",
)
AGENCIES = (  # name, type, tier, email domain
    (SCHOOL, "High school", "Universal", "woodgate.example.org"),
    (HEALTH, "Health", "Universal", "nhs.example.org"),
    (POLICE, "Police", "Targeted", "police.example.org"),
    (HOUSING, "Housing", "Targeted", "housing.example.org"),
)
FORUM = "Charnwood forum"  # named by the admin; the forum's word comes from the rules
NEW_WORDS = {
    "word_assessment": "early help assessment",
    "word_assessment_short": "EHA",
    "word_forum": "early help partnership",
    "word_forum_short": "EHP",
    "word_lead_professional": "lead practitioner",
}
# The seeds' words, which nothing shown after the change may say (as whole words: "CAF" is
# not in "CAFE"). The forum's short word "MAF" is left out: it is also the service's name.
OLD_WORDS = re.compile(
    r"\bCAFs?\b|Common Assessment Framework|lead professional|multi-agency forum", re.I
)
INVITATION_LINK = re.compile(r"https?://\S+(/invitations/[A-Za-z0-9_-]+)")


def test_a_council_sets_up_maf_in_the_browser_from_an_empty_database(
    app,
    database,
    browser,
    live_server,
    smtp_server,
    app_clock,
    journey,
    axe_source,
    monkeypatch,
    use_sso,
    oidc_provider,
):
    j = journey
    monkeypatch.setitem(app.config, "BASE_URL", live_server)  # emails' links lead back here
    # As in production (config.py ProductionConfig): admins and coordinators need a second factor.
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ("admin", "coordinator"))
    use_sso(f"{live_server}{CALLBACK_PATH}")
    mail = Mailboxes(smtp_server)
    with browsers(browser, live_server, axe_source) as person_for:
        # People are named before they have an account; their User replaces it once they do.
        def person(name, email):
            return person_for(SimpleNamespace(name=name, email=email))

        _first_day(j, app, app_clock, mail, person, oidc_provider, live_server)
    j.fail_if_any_failed()


# --- the story ------------------------------------------------------------------------------------


def _first_day(j: Journey, app, clock, mail: Mailboxes, person, provider, live_server):
    clock.london(date(2026, 12, 21), 9, 0)  # a Monday; the forum meets on 12 January 2027
    admin = person(*ADMIN)
    coordinator = person(*COORDINATOR)
    chair = person(*CHAIR)
    daniel, zoe, paul = person(*DANIEL), person(*ZOE), person(*PAUL)
    old_pages = partial(_uses_new_words, j)

    # 1 -------------------------------------------------------------------------------------------
    with j.step("An empty database; one admin made on the command line"):
        for model in (User, District, Agency, Forum, Case):
            j.equal(db.session.scalar(select(func.count()).select_from(model)), 0, model.__name__)
        result = app.test_cli_runner().invoke(
            args=[
                "maf",
                "create-user",
                "--email",
                ADMIN[1],
                "--name",
                ADMIN[0],
                "--role",
                "admin",
                "--password",
                PASSWORD,
            ]
        )
        j.equal(result.exit_code, 0, f"create-user's exit code ({result.output})")
        j.contains(result.output, f"Saved {ADMIN[1]} with roles admin", "create-user's output")
        j.equal(db.session.scalar(select(func.count()).select_from(User)), 1, "users")

    # 2 -------------------------------------------------------------------------------------------
    with j.step("The admin signs in and turns on two-step sign-in, as admins must"):
        admin.sign_in()
        admin.page.wait_for_url("**/account/security")
        _enrol_second_factor(j, admin)
        admin.visit("/")
        j.equal(admin.axe(), [], "axe-core on the admin's first dashboard")

    with j.step("The admin adds the district and four agencies, each with its email domain"):
        page = admin.visit("/districts/new")
        j.equal(admin.axe(), [], "axe-core on 'Add a district'")
        page.get_by_label("District name").fill("Charnwood")
        press(page, "Save district")
        expect(page.get_by_text("Charnwood saved.")).to_be_visible()
        for name, kind, tier, domain in AGENCIES:
            page = admin.visit("/agencies/new")
            page.get_by_label("Agency name").fill(name)
            page.get_by_label("Type of agency").select_option(label=kind)
            page.get_by_label(tier, exact=True).check()
            page.get_by_label("Charnwood").check()
            page.get_by_label("Email domains").fill(domain)
            press(page, "Save agency")
            expect(page.get_by_role("heading", level=1)).to_have_text(name)
            j.contains(words(admin.main()), domain, f"{name}'s page")
        j.equal(admin.axe(), [], "axe-core on an agency's page")
        admin.visit("/agencies")
        listed = words(admin.main())
        for name, *_ in AGENCIES:
            j.contains(listed, name, "the agencies page")
        j.equal(admin.axe(), [], "axe-core on the agencies page")

    # 3 -------------------------------------------------------------------------------------------
    links = {}
    with j.step("The admin invites a coordinator, a chair and three practitioners"):
        coordinator_role = rules.current("word_assessment_short") + " coordinator"
        for who, role, agency in (
            (COORDINATOR, coordinator_role, None),
            (CHAIR, "Forum chair", None),
            (DANIEL, "Practitioner", SCHOOL),
            (ZOE, "Practitioner", HEALTH),
            (PAUL, "Practitioner", POLICE),
        ):
            page = admin.visit("/people/invite")
            if who is COORDINATOR:
                j.equal(admin.axe(), [], "axe-core on 'Invite a person'")
            page.get_by_label("Full name").fill(who[0])
            page.get_by_label("Email address").fill(who[1])
            page.get_by_label(role, exact=True).check()
            if who is not CHAIR:
                page.get_by_label("Charnwood").check()
            if agency:
                page.get_by_label("Agency").select_option(label=agency)
            press(page, "Send the invitation")
            expect(page.get_by_text(f"Invitation sent to {who[0]}")).to_be_visible()
        j.equal(admin.axe(), [], "axe-core on the pending invitations")
        pending = words(admin.main())
        for who in (COORDINATOR, CHAIR, DANIEL, ZOE, PAUL):
            j.contains(pending, who[1], "the pending invitations")
        arrived = mail.deliver()
        invited = (COORDINATOR, CHAIR, DANIEL, ZOE, PAUL)
        j.equal({a: len(m) for a, m in arrived.items()}, {w[1]: 1 for w in invited}, "mailboxes")
        for who in invited:
            (invitation,) = arrived[who[1]]
            j.contains(invitation.text, f"Dear {who[0]}", f"{who[0]}'s invitation")
            j.contains(invitation.text, f"{ADMIN[0]} has invited you", f"{who[0]}'s invitation")
            links[who[1]] = INVITATION_LINK.search(invitation.text).group(1)

    # 4 -------------------------------------------------------------------------------------------
    with j.step("The coordinator accepts: a password, then the second factor, then the dashboard"):
        page = _accept_with_password(j, coordinator, links[COORDINATOR[1]])
        page.wait_for_url("**/account/security")
        recovery_codes = _enrol_second_factor(j, coordinator)
        j.contains(coordinator.main(), "Charnwood", "the coordinator's dashboard")

    with j.step("The chair and a practitioner accept with a password and land signed in"):
        for someone in (chair, daniel):
            _accept_with_password(j, someone, links[someone.user.email])
            expect(someone.page.get_by_text("Your account is ready")).to_be_visible()
            j.equal(_path(someone.page.url), "/", f"{someone.name}'s landing page")
            expect(someone.page.get_by_role("button", name="Sign out")).to_be_visible()

    with j.step("Two practitioners accept through the council's identity provider"):
        for someone, login in ((zoe, "zoe"), (paul, "paul")):
            provider.person(login, email=someone.user.email, name=someone.name)
            page = someone.page
            page.goto(links[someone.user.email])
            expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
            j.contains(someone.main(), "Use your work account", "the invitation page")
            j.equal(someone.axe(), [], "axe-core on the invitation page offering single sign-on")
            page.get_by_role("button", name="Sign in with Microsoft").click()
            sign_in_at_the_provider(page, login)
            page.wait_for_url(f"{live_server}/")
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
            j.equal(_path(page.url), "/", f"{someone.name}'s landing page")
        db.session.expire_all()
        people = {u.email: u for u in db.session.scalars(select(User))}
        j.equal(len(people), 6, "accounts after everyone accepted")
        j.equal(people[ZOE[1]].agency.name, HEALTH, "Zoë's agency, from her invitation")
        j.equal(people[PAUL[1]].roles, {Role.PRACTITIONER}, "Paul's roles, from his invitation")
        j.equal(people[COORDINATOR[1]].mfa_enabled_at is not None, True, "coordinator's MFA")
        for someone in (admin, coordinator, chair, daniel, zoe, paul):
            someone.user = people[someone.user.email]

    # 5 -------------------------------------------------------------------------------------------
    with j.step("Before any change, the coordinator records Amelia's CAF (20 working days)"):
        _intake(coordinator, "Amelia", "Hughes", ("12", "9", "2013"), "Female", "CAF")
        j.contains(coordinator.main(), "CAF received as case", "the new case page")
        coordinator.visit("/cases/")
        # Seed 002 B3: 20 working days, not counting Christmas and New Year's bank holidays.
        j.contains(_queue_row(coordinator, "Amelia Hughes"), "21 January 2027", "the queue")
        j.contains(words(coordinator.main()), "reviews every 3 months", "the queue")

    # 6 -------------------------------------------------------------------------------------------
    with j.step("The admin changes the timescales and the words on the rules page"):
        page = admin.visit("/rules")
        j.equal(admin.axe(), [], "axe-core on the rules page")
        shown = words(admin.main())
        review = _rule_card(admin, "review_interval")
        j.contains(review, "Now 3 months", "the review interval")
        j.contains(review, "Default 3 months (Seed 002 C1", "the review interval")
        for name, value in (
            ("review_interval", "6"),
            ("first_meeting_working_days", "30"),  # six weeks, as some areas have it
            *NEW_WORDS.items(),
        ):
            page = admin.visit(f"/rules/{name}")
            if name == "review_interval":
                j.equal(admin.axe(), [], "axe-core on changing a rule")
            page.locator("#value").fill(value)
            page.get_by_label("Why it is changing (optional)").fill("Families First Partnership")
            press(page, "Save rule")
            j.equal(_path(page.url), f"/rules#{name}", f"after saving {name}")
        j.equal(admin.axe(), [], "axe-core on the rules page after the changes")
        for name, now, default in (
            ("review_interval", "6 months", "3 months (Seed 002 C1"),
            ("first_meeting_working_days", "30 working days", "20 working days (Seed 002 B3"),
            ("word_assessment", "early help assessment", "Common Assessment Framework (Seed"),
            ("word_assessment_short", "EHA", "CAF (Seed"),
            ("word_lead_professional", "lead practitioner", "lead professional (Seed"),
            ("word_forum", "early help partnership", "multi-agency forum (Seed"),
        ):
            card = _rule_card(admin, name)
            j.contains(card, f"Now {now}", f"the rules page's {name}")
            j.contains(card, f"Default {default}", f"the rules page's {name}")
            j.contains(card, f"Last changed by {ADMIN[0]}", f"the rules page's {name}")
        j.equal(rules.current("review_interval"), Interval(6, "months"), "the review interval")

    # 7 -------------------------------------------------------------------------------------------
    forum = None
    with j.step("The admin sets up the forum, its 2027 meetings and its members"):
        page = admin.visit("/forums/new")
        j.equal(admin.axe(), [], "axe-core on the new forum's page")
        page.get_by_label("District").select_option(label="Charnwood")
        page.get_by_label("Forum name").fill(FORUM)
        page.get_by_label("Usual venue").fill("Southfield Road Family Centre, Loughborough")
        page.get_by_label("Independent chair").select_option(label=CHAIR[0])
        page.get_by_label("EHA coordinator").select_option(label=COORDINATOR[0])
        page.get_by_label("Usual start time").fill("09:30")
        press(page, "Save forum")
        expect(page.get_by_role("heading", level=1)).to_have_text(FORUM)
        page.get_by_label("Year").fill("2027")
        press(page, "Add the year's meetings")
        shown = words(admin.main())
        for day in ("12 January 2027", "13 April 2027", "13 July 2027", "12 October 2027"):
            j.contains(shown, day, "the forum page")
        for who, agency in ((DANIEL, SCHOOL), (ZOE, HEALTH), (PAUL, POLICE), (HARRIET, HOUSING)):
            page.get_by_label("Name", exact=True).fill(who[0])
            page.get_by_label("Email address").fill(who[1])
            page.get_by_label("Agency").select_option(label=agency)
            press(page, "Add member")
            j.contains(admin.main(), who[0], "the forum page, after adding a member")
        members = page.locator("main")
        j.equal(
            members.get_by_role("button", name=re.compile("^Invite to ")).count(),
            1,
            "'Invite to MAF' buttons: only Harriet has no account",
        )
        press(members, re.compile(f"^Invite to .* {HARRIET[0]}$"))
        expect(page.get_by_text(f"Invitation sent to {HARRIET[0]}")).to_be_visible()
        j.equal(admin.axe(), [], "axe-core on the forum page")
        old_pages(admin, "the forum page")
        (invitation,) = mail.deliver()[HARRIET[1]]
        _mail_uses_new_words(j, invitation, "Harriet's invitation")
        j.contains(invitation.text, "early help partnerships", "Harriet's invitation")
        forum = db.session.scalar(select(Forum))
        # Every partner here mails over the council's secure network (issue 17): agendas and
        # minutes go attached, so the words of the documents as sent can be read below.
        page = admin.visit("/secure-email-domains")
        page.get_by_label("Email domain").fill("example.org")
        press(page, "Add the domain")
        j.contains(admin.main(), "example.org added", "the secure email domains page")
        old_pages(admin, "the secure email domains page")
        for path, what in (("/people", "the people page"), ("/invitations", "the invitations")):
            admin.visit(path)
            j.equal(admin.axe(), [], f"axe-core on {what}")
            old_pages(admin, what)
        admin.visit("/people")
        j.contains(
            words(admin.main()), f"{COORDINATOR[0]} {COORDINATOR[1]} EHA coordinator", "people"
        )

    # 8 -------------------------------------------------------------------------------------------
    amelia = db.session.scalar(select(Case))
    with j.step("After the change: Oliver's EHA (30 working days); Amelia's deadline stays"):
        _intake(coordinator, "Oliver", "Mensah", ("17", "5", "2012"), "Male", "EHA")
        j.contains(coordinator.main(), "EHA received as case", "the new case page")
        coordinator.visit("/cases/")
        queue = words(coordinator.main())
        j.contains(_queue_row(coordinator, "Amelia Hughes"), "21 January 2027", "the queue")
        j.contains(_queue_row(coordinator, "Oliver Mensah"), "4 February 2027", "the queue")
        j.contains(queue, "30 working days to a first meeting", "the queue")
        j.contains(queue, "reviews every 6 months", "the queue")
        old_pages(coordinator, "the queue")
        for case in db.session.scalars(select(Case).order_by(Case.id)):
            page = coordinator.visit(f"/cases/{case.id}")
            _choose(page, "Outcome of the tier 3/4 check", "No tier 3/4 involvement found")
            press(page, "Save the outcome")
            press(page, "Mark ready for a forum")
            expect(page.locator("#status")).to_contain_text("Ready for a forum")
            # Amelia's status history says what was recorded, when the words were the seeds'.
            recorded = "CAF received" if case.child.given_name == "Amelia" else "EHA received"
            old_pages(coordinator, f"{case.child.full_name}'s case page", recorded)
        j.equal(coordinator.axe(), [], "axe-core on a case page")
        coordinator.visit("/")
        old_pages(coordinator, "the coordinator's dashboard")

    # 9 -------------------------------------------------------------------------------------------
    january = db.session.scalar(select(Meeting).order_by(Meeting.date)) if forum else None
    with j.step("The coordinator builds and circulates the January agenda"):
        page = coordinator.visit(f"/meetings/{january.id}/agenda/build")
        page.get_by_role("tab", name="Cases to add").click()
        for child in ("Amelia Hughes", "Oliver Mensah"):
            page.get_by_role("checkbox", name=child).check()
        press(page, "Add selected to the agenda")
        j.contains(coordinator.main(), "Added 2 new cases.", "the builder")
        old_pages(coordinator, "the agenda builder")
        press(page, "Circulate the agenda")
        arrived = mail.deliver()
        for who in (DANIEL, ZOE, PAUL, HARRIET, CHAIR):
            agenda_mails = [
                m for m in arrived[who[1]] if m.subject.startswith("OFFICIAL-SENSITIVE: Agenda:")
            ]
            j.equal(len(agenda_mails), 1, f"agendas to {who[0]}")
            for message in arrived[who[1]]:
                _mail_uses_new_words(j, message, f"{who[0]}'s {message.subject!r}")
            (agenda,) = agenda_mails
            document = agenda.docx_text()
            for child in ("Amelia Hughes", "Oliver Mensah"):
                j.contains(document, child, f"{who[0]}'s agenda .docx")
            _lacks_old_words(j, document, f"{who[0]}'s agenda .docx")
            event = agenda.event()
            j.equal(event["start"][:10], "2027-01-12", f"{who[0]}'s calendar event")
            said = " ".join(str(event.get(k) or "") for k in ("summary", "description", "location"))
            _lacks_old_words(j, said, f"{who[0]}'s calendar invitation")
            j.equal(event["summary"], FORUM, f"{who[0]}'s calendar event's title")
        j.lacks(
            "\n".join(m.text for m in arrived[HARRIET[1]]),
            "sign in to",
            "the agenda email to Harriet, who has no account yet",
        )
        coordinator.visit(f"/meetings/{january.id}/agenda")
        old_pages(coordinator, "the agenda page")
        zoe.visit(f"/meetings/{january.id}/agenda")
        old_pages(zoe, "the agenda as a member sees it")
        for someone in (zoe, chair):
            someone.visit("/")
            j.contains(someone.main(), FORUM, f"{someone.name}'s dashboard")
            old_pages(someone, f"{someone.name}'s dashboard")

    # 10 ------------------------------------------------------------------------------------------
    with j.step("The chair records the meeting: lead practitioners, reviews six months on"):
        clock(january.starts_at)
        page = chair.visit(f"/meetings/{january.id}/record")
        old_pages(chair, "the meeting record")
        with page.expect_navigation():
            page.get_by_role("link", name="Record attendance").click()
        for box in page.locator("input[id$='-present']").all():
            box.check()
        press(page, "Save attendance")
        with page.expect_navigation():
            page.get_by_role("link", name="Amelia Hughes").click()
        for number, (child, lead, agency) in enumerate(
            (("Amelia Hughes", DANIEL, SCHOOL), ("Oliver Mensah", ZOE, HEALTH))
        ):
            expect(page.get_by_role("heading", level=1)).to_have_text(child)
            old_pages(chair, f"{child}'s item in the record")
            page.get_by_label("Discussion").fill(f"The forum discussed {child}'s plan.")
            page.get_by_label("Practitioner", exact=True).check()
            page.get_by_label("Lead practitioner's name").fill(lead[0])
            page.get_by_label("Lead practitioner's email").fill(lead[1])
            page.get_by_label("Lead practitioner's agency").fill(agency)  # an autocomplete
            page.get_by_role("option", name=agency).click()
            page.get_by_label("They agreed to be lead practitioner").check()
            page.get_by_label("Continue, with a review").check()
            # Offered: the forum's last meeting within the interval. Under seed 002 C1's 3
            # months none is (13 April is 3 months and a day on), so 12 April would be offered.
            offered = [
                page.locator(f"#next_review_on-{p}").input_value() for p in ("day", "month", "year")
            ]
            j.equal(offered, ["13", "04", "2027"], f"the next review offered for {child}")
            last = number == 1
            button = "Save and go back to all items" if last else "Save and go to next item"
            if last:  # Oliver's review set further on: past 6 months refused, within accepted
                _fill_date(page, "next_review_on", "13", "7", "2027")
                press(page, button)
                j.contains(
                    page.locator("#next_review_on-error").inner_text(),
                    "must be within 6 months of this meeting",
                    "the error beside the next review",
                )
                j.equal(
                    page.get_by_label("Discussion").input_value(),
                    f"The forum discussed {child}'s plan.",
                    "what the chair typed, kept",
                )
                # More than seed 002 C1's 3 months, within the council's 6.
                _fill_date(page, "next_review_on", "9", "7", "2027")
                press(page, button)
            else:
                press(page, button)
            expect(page.get_by_text(f"Saved: {child}.")).to_be_visible()
        press(page, "Complete the meeting record")
        expect(page.get_by_text("The record is complete")).to_be_visible()
        db.session.expire_all()
        for case in db.session.scalars(select(Case)):
            j.equal(case.status, CaseStatus.OPEN, f"{case.child.full_name}'s status")
            j.equal(
                outcomes.current_lead(case).name in (DANIEL[0], ZOE[0]),
                True,
                f"{case.child.full_name}'s lead practitioner",
            )
        page = chair.visit(f"/meetings/{january.id}/minutes")
        old_pages(chair, "the draft minutes")
        press(page, "Approve version 1")
        press(page, "Circulate version 1")
        expect(page.get_by_text("The minutes are on their way")).to_be_visible()
        arrived = mail.deliver()
        for who in (DANIEL, ZOE, PAUL, HARRIET, CHAIR):
            (minutes,) = arrived[who[1]]
            _mail_uses_new_words(j, minutes, f"{who[0]}'s minutes email")
            document = minutes.docx_text()
            j.contains(document, "Lead practitioner", f"{who[0]}'s minutes .docx")
            for review in ("13 April 2027", "9 July 2027"):
                j.contains(document, review, f"{who[0]}'s minutes .docx: the next reviews")
            _lacks_old_words(j, document, f"{who[0]}'s minutes .docx")

    with j.step("Afterwards: the case page and the deadlines as they were given"):
        # Weeks on, the coordinator signs in again: a recovery code as the second factor.
        coordinator.sign_in()
        coordinator.page.get_by_label("Code", exact=True).fill(recovery_codes[0])
        press(coordinator.page, "Continue")
        page = coordinator.visit(f"/cases/{amelia.id}")
        old_pages(coordinator, "Amelia's case page after the meeting", "CAF received")
        shown = words(coordinator.main())
        j.contains(shown, "Lead practitioner Role From To", "Amelia's case page")
        j.contains(shown, DANIEL[0], "Amelia's case page: her lead practitioner")
        page = coordinator.visit("/cases/breaches")
        old_pages(coordinator, "the time rules page")


# --- steps made of several actions ----------------------------------------------------------------


def _rule_card(admin: Person, name: str) -> str:
    return words(admin.page.locator(f"#{name}").inner_text())


def _queue_row(someone: Person, child: str) -> str:
    return words(someone.page.get_by_role("row").filter(has_text=child).first.inner_text())


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url


def _enrol_second_factor(j: Journey, someone: Person):
    """The set-up page's secret typed into an authenticator (pyotp), then the recovery codes."""
    page = someone.page
    secret = page.locator("code").first.inner_text().replace(" ", "")
    j.equal(someone.axe(), [], f"axe-core on {someone.name}'s two-step set-up page")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    press(page, "Continue")
    expect(page.locator("#recovery-codes")).to_be_visible()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to your dashboard").click()
    j.equal(_path(page.url), "/", f"{someone.name}'s landing page")
    return codes


def _accept_with_password(j: Journey, someone: Person, link: str):
    page = someone.page
    page.goto(link)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    j.contains(someone.main(), f"{ADMIN[0]} has invited you", f"{someone.name}'s invitation page")
    j.equal(someone.axe(), [], "axe-core on the invitation page")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm the new password").fill(PASSWORD)
    press(page, "Create my account")
    return page


def _intake(coordinator: Person, given, family, born, gender, short):
    """An assessment recorded through the intake pages, labelled with the words in force."""
    page = coordinator.visit("/cases/")
    press(page, f"Record a completed {short}")
    _choose(page, "Is there a concern", "No")
    press(page, "Continue")
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    _fill_date(page, "date_of_birth", *born)
    _choose(page, "Gender", gender)
    page.get_by_label("Postcode").fill("LE11 3TU")
    page.get_by_label("School or setting", exact=True).select_option(label=SCHOOL)
    page.get_by_label(f"Name of the practitioner who completed the {short}").fill(DANIEL[0])
    page.get_by_label("Their email address").fill(DANIEL[1])
    page.get_by_label("Their agency").select_option(label=SCHOOL)
    page.get_by_label(f"Where the {short} came from").select_option(label="High school")
    _fill_date(page, "assessment_completed_on", "21", "12", "2026")
    page.get_by_label("Behaviour is hard to manage at school").check()
    _choose(page, "Who gave consent", "A parent or carer")
    page.get_by_label("Their name").fill(f"Parent of {given}")
    _fill_date(page, "consent_given_on", "21", "12", "2026")
    _choose(page, "How was consent given?", "Written (signed)")
    _choose(page, "Consent to share the assessment", "Given")
    page.locator("#share_with_forum").check()
    press(page, "Save and run the checks")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{given} {family}")


def _uses_new_words(j: Journey, someone: Person, where: str, history: str = ""):
    """The page in front of them, header and footer included, says none of the seeds' words;
    except `history`, a record made before the change, which is kept as it was made."""
    shown = someone.page.inner_text("body")
    if history:
        j.contains(shown, history, f"{where}: the history as it was recorded")
    _lacks_old_words(j, shown.replace(history or "\0", ""), where)


def _lacks_old_words(j: Journey, text: str, where: str):
    # The service's own name is the deployment's setting (MAF_SERVICE_NAME), not a local rule.
    text = text.replace(current_app.config["SERVICE_NAME"], "")
    found = OLD_WORDS.search(text)
    context = found and words(text[max(0, found.start() - 200) : found.end() + 200])
    j.check(found is None, f"{where} says {found and found.group(0)!r}: ...{context}...")


def _mail_uses_new_words(j: Journey, message, where: str):
    for part, text in (
        ("text", message.text),
        ("html", message.html),
        ("subject", message.subject),
    ):
        _lacks_old_words(j, re.sub(r"<[^>]+>", " ", text), f"{where} ({part})")


def test_the_invitation_page_offers_the_councils_own_sign_in_only_where_it_is_set_up(
    client, make_user, use_sso
):
    """The journey's two practitioners accept with single sign-on from the invitation page; a
    council without it sees only the password form there."""
    email = "amira.khan@nhs.example.org"
    invitations.invite(
        email=email,
        name="Amira Khan",
        roles=[Role.PRACTITIONER],
        districts=[],
        agency=None,
        invited_by=make_user(Role.ADMIN),
    )
    db.session.flush()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_email == email))
    link = INVITATION_LINK.search(message.text_body).group(1)

    page = client.get(link).text
    assert "Choose a password to create your account." in page
    assert "Use your work account" not in page and "/sign-in/oidc" not in page

    use_sso()
    page = client.get(link).text
    assert "Use your work account" in page
    assert 'href="/sign-in/oidc"' in page and "Sign in with Microsoft" in page
    assert "Choose a password to create your account." in page
