"""The accessibility statement and the privacy notice: their default texts for a council to
adapt, every published version, and the simple formatting they are written in.

Formatting is plain text, never HTML: a blank line between paragraphs, "## " and "### " at the
start of a line for headings, "- " for a list item; web addresses and email addresses become
links. Everything else is shown exactly as typed (escaped).

The privacy notice never states a retention period of its own: the line RETENTION_MARKER is
where the page states the periods from the local rules (maf.rules), so the notice always says
what the retention job does.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from maf.audit import services as audit
from maf.dbtypes import LONDON, utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.public_pages.models import PublicPageVersion
from maf.rules import append_only
from maf.rules import services as rules
from maf.versioning import UNCHECKED, Difference, StaleEdit
from maf.words import plural

BODY_MAX = 30_000
RETENTION_MARKER = "[How long we keep it]"
# When the default texts were written: their "last updated" date until an admin publishes one.
DEFAULTS_WRITTEN = datetime(2026, 12, 2, tzinfo=UTC)

ACCESSIBILITY_DEFAULT = """\
This accessibility statement applies to {service}, the service {organisation} uses to run its \
{forums} and the {assessments} they discuss.

{organisation} wants as many people as possible to be able to use this service. For example, \
that means you should be able to:

- change colours, contrast levels and fonts using your browser or device settings
- zoom in up to 400% without the text spilling off the screen
- navigate most of the service using just a keyboard
- navigate most of the service using speech recognition software
- listen to most of the service using a screen reader (including the most recent versions of \
JAWS, NVDA and VoiceOver)

We have also made the text as simple as possible to understand. AbilityNet has advice on \
making your device easier to use if you have a disability: https://mcmw.abilitynet.org.uk/

## Compliance status

This service is fully compliant with the Web Content Accessibility Guidelines version 2.2 AA \
standard.

## Non-accessible content

We know of no content in this service that is not accessible. Documents you download (agendas \
and minutes) are Word documents made with headings and tables a screen reader can follow. If \
you find something that is not accessible, please tell us.

## Feedback and contact information

If you need information in this service in a different format, like accessible PDF, large \
print, easy read, audio recording or braille, email accessibility@example.gov.uk. We will \
consider your request and get back to you within 10 working days.

## Reporting accessibility problems with this service

We are always looking to improve the accessibility of this service. If you find any problems \
not listed on this page or think we are not meeting accessibility requirements, email \
accessibility@example.gov.uk.

## Enforcement procedure

The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector \
Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 (the \
"accessibility regulations"). If you are not happy with how we respond to your complaint, \
contact the Equality Advisory and Support Service (EASS): \
https://www.equalityadvisoryservice.com/

If you are in Northern Ireland and are not happy with how we respond to your complaint you can \
contact the Equality Commission for Northern Ireland (ECNI): https://www.equalityni.org/Home

## Technical information about this service's accessibility

{organisation} is committed to making this service accessible, in accordance with the Public \
Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018.

## How we tested this service

Every page of this service is tested automatically with axe and the Nu HTML Checker each time \
it changes, and its main journeys are tested using only a keyboard.
"""

PRIVACY_DEFAULT = """\
This notice explains what information {service} holds about children, young people, their \
families and the practitioners who work with them, why it is held, who it is shared with, how \
long it is kept and your rights.

## Who we are

{organisation} is the data controller for the information in this service. You can contact \
our data protection officer at dpo@example.gov.uk.

## What information we hold

- about a child or young person: name, date of birth, address, school, and identifiers such as \
the NHS number and the unique pupil number
- the {assessment} ({assessment_short}): the needs, strengths and views recorded in it, and \
the consent given to undertake, record and share it
- what the {forum} ({forum_short}) discussed and decided, the actions agreed and the \
{lead_professional}
- about practitioners: name, work email address, agency and role

## Why we hold it and our lawful basis

We use this information to coordinate early help for children and families: to check that an \
{assessment_short} does not already exist, to plan {forum} meetings, to record what was agreed \
and to follow up the actions. We also use it, without names, to report to the Children's \
Trust Board.

Our lawful basis is UK GDPR Article 6(1)(e): the task is carried out in the public interest and \
in the exercise of our official authority (the Children Act 2004, section 10). Information \
about health is processed under Article 9(2)(g) and (h), with the Data Protection Act 2018, \
Schedule 1, Part 2.

An {assessment_short} is voluntary: it is recorded and shared only with the consent the family \
gives, except where the law allows sharing without consent to protect a child from significant \
harm.

## Who we share it with

Information is shared with the agencies on the {forum} that the family's consent covers: \
schools, health services, social care, youth services, police, housing and voluntary \
organisations. We do not sell it or send it outside the UK.

## How long we keep it

[How long we keep it]

## Your rights

You have the right to ask for a copy of the information we hold about you, to have it \
corrected, to object to how we use it, and in some cases to have it erased or its use \
restricted. To use any of these rights, contact our data protection officer.

## Complaints

If you are unhappy with how we have used your information, contact our data protection \
officer. You can also complain to the Information Commissioner's Office (ICO), Wycliffe House, \
Water Lane, Wilmslow, Cheshire SK9 5AF, telephone 0303 123 1113: https://ico.org.uk/make-a-complaint/
"""


@dataclass(frozen=True)
class PageKind:
    slug: str
    title: str
    default: str
    # What the page must say, whatever the admin writes, and why.
    required_lines: tuple[str, ...] = ()


PAGES: dict[str, PageKind] = {
    kind.slug: kind
    for kind in (
        PageKind("accessibility", "Accessibility statement", ACCESSIBILITY_DEFAULT),
        PageKind("privacy", "Privacy notice", PRIVACY_DEFAULT, (RETENTION_MARKER,)),
    )
}


@dataclass(frozen=True)
class Page:
    """A public page as it is shown: its text and when it was last published (or written)."""

    kind: PageKind
    body: str
    updated_at: datetime
    sequence: int  # 0: the default text, never published
    first_published_at: datetime


def kind_of(slug: str) -> PageKind:
    return PAGES[slug]


def _fill(text: str, service: str, organisation: str) -> str:
    w = rules.current
    return text.format(
        service=service,
        organisation=organisation,
        assessment=w("word_assessment"),
        assessments=w("word_assessment") + "s",
        assessment_short=w("word_assessment_short"),
        forum=w("word_forum"),
        forums=w("word_forum") + "s",
        forum_short=w("word_forum_short"),
        lead_professional=w("word_lead_professional"),
    )


def page(slug: str, *, service: str, organisation: str) -> Page:
    """The page as published now; the default text (in the service's words) until an admin
    publishes a version."""
    kind = kind_of(slug)
    latest, first = _latest_and_first(slug)
    if latest is None:
        return Page(
            kind, _fill(kind.default, service, organisation), DEFAULTS_WRITTEN, 0, DEFAULTS_WRITTEN
        )
    return Page(kind, latest.body, latest.published_at, latest.sequence, first.published_at)


def _latest_and_first(slug: str):
    def one(order):
        return db.session.scalar(
            select(PublicPageVersion)
            .where(PublicPageVersion.slug == slug)
            .options(selectinload(PublicPageVersion.published_by))
            .order_by(order)
            .limit(1)
        )

    latest = one(PublicPageVersion.sequence.desc())
    return latest, (one(PublicPageVersion.sequence) if latest is not None else None)


def versions(slug: str) -> list[PublicPageVersion]:
    """Every published version, newest first."""
    kind_of(slug)
    return list(
        db.session.scalars(
            select(PublicPageVersion)
            .where(PublicPageVersion.slug == slug)
            .options(selectinload(PublicPageVersion.published_by))
            .order_by(PublicPageVersion.sequence.desc())
        )
    )


def version(slug: str, sequence: int) -> PublicPageVersion | None:
    return db.session.scalar(
        select(PublicPageVersion).where(
            PublicPageVersion.slug == slug, PublicPageVersion.sequence == sequence
        )
    )


_YEARS_STATED = re.compile(r"\b\d+\s+years?\b(?!\s+old)", re.IGNORECASE)


def publish(slug: str, body: str, *, by, version=UNCHECKED) -> PublicPageVersion:
    """Publish a new version of the page (added to the current transaction; the caller
    commits). `version` is the sequence of the version the admin's form was opened at."""
    kind = kind_of(slug)
    body = "\n".join(line.rstrip() for line in (body or "").strip().splitlines())
    if not body:
        raise DomainError(f"Enter the text of the {kind.title.lower()}", field="body")
    if len(body) > BODY_MAX:
        raise DomainError(f"The text must be {BODY_MAX:,} characters or fewer", field="body")
    for line in kind.required_lines:
        if line not in [text.strip() for text in body.splitlines()]:
            raise DomainError(
                f"Keep the line {line} on a line of its own: the notice states the retention "
                "periods there, from the local rules",
                field="body",
            )
    if slug == "privacy" and (stated := _YEARS_STATED.search(body)):
        raise DomainError(
            f"Remove “{stated.group(0)}”: the notice states how long information is kept from "
            f"the local rules, at the line {RETENTION_MARKER}",
            field="body",
        )
    row = append_only.append(
        PublicPageVersion(slug=slug, body=body, published_by_id=by.id, published_at=utcnow()),
        key_column=PublicPageVersion.slug,
        key=slug,
        version=version,
        stale=lambda latest: _stale(latest, body),
    )
    audit.record("public_page_published", row, user=by, detail=f"{slug}: version {row.sequence}")
    return row


def _stale(latest: PublicPageVersion | None, yours: str) -> StaleEdit:
    theirs = latest.body if latest is not None else ""
    differences = [Difference("Text", theirs, yours)] if theirs != yours else []
    return StaleEdit(
        latest.published_by.name if latest is not None else "Someone",
        latest.published_at if latest is not None else None,
        differences,
        latest.sequence if latest is not None else 0,
    )


# --- the retention periods, from the rules -------------------------------------------------------


def retention_sentences() -> list[str]:
    """How long a case's information is kept, in the words of the retention rules in force
    (seed 002 D3 by default: 1 year accessible, then 6 years archived)."""
    accessible = rules.current("retention_years_accessible")
    archived = rules.current("retention_years_archived")
    return [
        "Once a case is closed, its information stays available to the people working "
        f"with the family for {plural(accessible, 'year')}. It is then archived: kept, but "
        f"seen only by the coordinators and administrators who need it, for "
        f"{plural(archived, 'more year')}.",
        f"After that ({plural(accessible + archived, 'year')} after closure in all), the "
        "child's name, date of birth, address and identifiers and everything written about the "
        "family are destroyed. What is kept is only what the council counts in its reports, "
        "without names: dates, district, the kind of needs and the answers to the outcomes "
        "questionnaire.",
        "Information about practitioners is kept while they use the service.",
    ]


# --- formatting ----------------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # "h2", "h3", "p", "ul", "retention"
    lines: list[str] = field(default_factory=list)


def blocks(body: str) -> list[Block]:
    """The text's headings, paragraphs and lists, in order."""
    found: list[Block] = []
    current: Block | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            current = None
            continue
        if line == RETENTION_MARKER:
            found.append(Block("retention"))
            current = None
        elif line.startswith("### "):
            found.append(Block("h3", [line[4:].strip()]))
            current = None
        elif line.startswith("## "):
            found.append(Block("h2", [line[3:].strip()]))
            current = None
        elif line.startswith(("- ", "* ")):
            if current is None or current.kind != "ul":
                current = Block("ul")
                found.append(current)
            current.lines.append(line[2:].strip())
        elif current is not None and current.kind == "ul" and raw.startswith((" ", "\t")):
            current.lines[-1] += " " + line  # a list item carried on to the next line
        else:
            if current is None or current.kind != "p":
                current = Block("p")
                found.append(current)
            current.lines.append(line)
    return found


_LINKABLE = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,;:!?)])|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
)


def linked(text: str) -> Markup:
    """The text escaped, with its web and email addresses as links."""
    out = []
    position = 0
    for match in _LINKABLE.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match.group("url"):
            url = match.group("url")
            out.append(Markup('<a class="govuk-link" href="{0}">{0}</a>').format(url))
        else:
            email = match.group("email")
            out.append(Markup('<a class="govuk-link" href="mailto:{0}">{0}</a>').format(email))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)


def last_updated(day: datetime) -> date:
    return day.astimezone(LONDON).date()
