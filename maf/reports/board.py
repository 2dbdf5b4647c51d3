"""The CAF team's progress report to a district's Children's Trust Board (seed 000).

The team types in only what the system cannot know: the targets, the number of practitioners
trained, and the high risks, issues and recommendations. Every other figure is counted from
the cases, so the report cannot drift from the record.

The document carries no child's details, but small counts for one district can still point
to a family, so it keeps the house OFFICIAL-SENSITIVE marking.
"""

import io
from dataclasses import dataclass, fields
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, Twips
from docx.table import Table
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maf import submissions
from maf.agendas.document import (
    PROTECTIVE_MARKING,
    _add_labelled,
    _add_row,
    _add_table,
    _clean,
    _set_up_page,
    _set_up_styles,
    short_date,
)
from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.permissions import visible_district_ids
from maf.cases.models import Case
from maf.dbtypes import london_today, utcnow
from maf.directory.models import District
from maf.errors import DomainError
from maf.extensions import db
from maf.reports import charts, figures
from maf.reports.models import BoardEntry, BoardEntryKind, BoardPeriod
from maf.rules.words import Worded, words
from maf.versioning import UNCHECKED, require_version, touch

# The monthly figures make a column per month, and the board reports on months or quarters:
# a year is plenty, and stops a mistyped year asking for centuries.
LONGEST_PERIOD = relativedelta(years=1)
# Centimetres, adding up to 18.0: A4 portrait's width inside the house margins.
MEASURE_COLUMNS = (
    ("Measure", 6.0),
    ("Previous total", 3.0),
    ("Target for the period", 3.0),
    ("Increase in the period", 3.0),
    ("Total", 3.0),
)
RISK_COLUMNS = (("Risk", 9.0), ("Mitigating action(s)", 9.0))
ISSUE_COLUMNS = (("Issue", 9.0), ("Solution", 9.0))
MISSED_COLUMNS = (
    ("Case", 2.0),
    ("Deadline", 3.0),
    ("Due by", 2.6),
    ("Discussed on", 2.6),
    ("Late by", 2.3),
    ("Why", 5.5),
)
CHART_WIDTH = Cm(16)
NEEDS_SHOWN = 10
ENTRY_WORDS = {
    BoardEntryKind.RISK: ("risk", "mitigating action"),
    BoardEntryKind.ISSUE: ("issue", "solution"),
    BoardEntryKind.RECOMMENDATION: ("recommendation", None),
}


class BoardError(DomainError):
    """A rule about board periods refused the change."""


@dataclass(frozen=True)
class BoardInputs:
    """The typed figures; the names are BoardPeriod's columns."""

    target_started: int = 0
    target_completed: int = 0
    target_organisations: int = 0
    target_trained: int = 0
    practitioners_trained: int = 0
    next_target_started: int = 0
    next_target_completed: int = 0
    next_target_organisations: int = 0
    next_target_trained: int = 0


# The words the form uses for each figure, also used to list what someone else changed.
INPUT_LABELS = {
    "target_started": Worded("Target for {w.assessments_short} started"),
    "target_completed": Worded("Target for {w.assessments_short} completed"),
    "target_organisations": Worded("Target for organisations completing {w.assessments_short}"),
    "target_trained": "Target for practitioners trained",
    "practitioners_trained": "Practitioners trained in the period",
    "next_target_started": Worded("Next period's target for {w.assessments_short} started"),
    "next_target_completed": Worded("Next period's target for {w.assessments_short} completed"),
    "next_target_organisations": Worded(
        "Next period's target for organisations completing {w.assessments_short}"
    ),
    "next_target_trained": "Next period's target for practitioners trained",
}


@dataclass(frozen=True)
class Measure:
    """A row of Table 1: total = previous + increase."""

    label: str
    previous: int
    target: int
    increase: int

    @property
    def total(self) -> int:
        return self.previous + self.increase


@dataclass(frozen=True)
class NextTarget:
    """A row of Table 2: where the measure stands now and where the target takes it."""

    label: str
    now: int
    target: int

    @property
    def total(self) -> int:
        return self.now + self.target


# --- periods and inputs ------------------------------------------------------------------


def find_board_period(district_id: int, starts_on: date, ends_on: date) -> BoardPeriod | None:
    return db.session.scalar(
        select(BoardPeriod).where(
            BoardPeriod.district_id == district_id,
            BoardPeriod.starts_on == starts_on,
            BoardPeriod.ends_on == ends_on,
        )
    )


def board_period(district: District, starts_on: date, ends_on: date, user: User) -> BoardPeriod:
    """The district's period with these dates, started now if it is new."""
    found = find_board_period(district.id, starts_on, ends_on)
    if found is not None:
        return found
    if ends_on < starts_on:
        raise BoardError("The last day must be the same as or after the first day", "ends_on")
    if ends_on >= starts_on + LONGEST_PERIOD:
        raise BoardError("A reporting period can be at most a year long", "ends_on")
    # Practitioners trained before a period are the sum over the earlier periods, which
    # would count some twice if periods overlapped.
    overlapping = db.session.scalar(
        select(BoardPeriod)
        .where(
            BoardPeriod.district_id == district.id,
            BoardPeriod.starts_on <= ends_on,
            BoardPeriod.ends_on >= starts_on,
        )
        .order_by(BoardPeriod.starts_on)
        .limit(1)
    )
    if overlapping is not None:
        raise BoardError(
            f"{district.name} already has a period from {short_date(overlapping.starts_on)} "
            f"to {short_date(overlapping.ends_on)}: periods cannot overlap",
            "starts_on",
        )
    created = BoardPeriod(
        district_id=district.id, starts_on=starts_on, ends_on=ends_on, updated_by_id=user.id
    )
    db.session.add(created)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone else started the same period a moment ago: theirs is the one.
        db.session.rollback()
        return find_board_period(district.id, starts_on, ends_on)
    audit.record("board_period_started", created, user=user, detail=describe_period(created))
    db.session.commit()
    return created


def periods_visible_to(user: User) -> list[BoardPeriod]:
    """Every period of the districts the user may see, latest first within each district."""
    statement = (
        select(BoardPeriod)
        .join(District, District.id == BoardPeriod.district_id)
        .order_by(District.name, BoardPeriod.starts_on.desc())
    )
    ids = visible_district_ids(user)
    if ids is not None:
        statement = statement.where(BoardPeriod.district_id.in_(ids))
    return list(db.session.scalars(statement))


def inputs_of(period: BoardPeriod) -> BoardInputs:
    return BoardInputs(**{f.name: getattr(period, f.name) for f in fields(BoardInputs)})


def save_inputs(
    period: BoardPeriod, inputs: BoardInputs, user: User, version: int | None = UNCHECKED
) -> None:
    """Save the typed figures; `version` is the period's version when the form was opened, so
    a save from a page opened before someone else saved is refused (StaleEdit), not written
    over theirs."""
    for f in fields(BoardInputs):
        value = getattr(inputs, f.name)
        if not isinstance(value, int) or value < 0:
            raise BoardError("Figures must be whole numbers, 0 or more", f.name)
    require_version(
        period,
        version,
        yours={INPUT_LABELS[f.name]: str(getattr(inputs, f.name)) for f in fields(BoardInputs)},
        theirs={INPUT_LABELS[f.name]: str(getattr(period, f.name)) for f in fields(BoardInputs)},
    )
    changed = [
        f"{f.name} {getattr(period, f.name)}→{getattr(inputs, f.name)}"
        for f in fields(BoardInputs)
        if getattr(period, f.name) != getattr(inputs, f.name)
    ]
    for f in fields(BoardInputs):
        setattr(period, f.name, getattr(inputs, f.name))
    touch(period, user)
    audit.record("board_inputs_saved", period, user=user, detail="; ".join(changed) or "no change")
    db.session.commit()


def add_entry(
    period: BoardPeriod,
    kind: BoardEntryKind,
    text: str,
    response: str,
    user: User,
    once: str | None = None,
) -> BoardEntry:
    noun, response_noun = ENTRY_WORDS[kind]
    text, response = text.strip(), response.strip()
    if not text:
        raise BoardError(f"Enter the {noun}", "text")
    if response_noun is None:
        response = ""
    elif not response:
        raise BoardError(f"Enter the {response_noun}", "response")
    submission = submissions.claim(once, "board_entry", user)
    entry = BoardEntry(board_period_id=period.id, kind=kind, text=text, response=response)
    period.entries.append(entry)
    period.updated_by_id = user.id
    submissions.created(submission, entry)
    audit.record("board_entry_added", entry, user=user, detail=f"{kind.value} for {period.id}")
    db.session.commit()
    return entry


def remove_entry(entry: BoardEntry, user: User) -> None:
    period = db.session.get(BoardPeriod, entry.board_period_id)
    # Only the kind and period: the audit log never holds free text, which could name a child.
    audit.record(
        "board_entry_removed",
        entry,
        user=user,
        detail=f"{entry.kind.value} for {entry.board_period_id}",
    )
    period.entries.remove(entry)
    period.updated_by_id = user.id
    db.session.commit()


def entries_of(period: BoardPeriod, kind: BoardEntryKind) -> list[BoardEntry]:
    return [entry for entry in period.entries if entry.kind == kind]


def describe_period(period: BoardPeriod) -> str:
    return f"{short_date(period.starts_on)} to {short_date(period.ends_on)}"


# --- figures -----------------------------------------------------------------------------


def _span(starts_on: date, ends_on: date) -> figures.Period:
    return figures.Period(starts_on, ends_on)


def trained_before(period: BoardPeriod) -> int:
    """Practitioners trained in the district's earlier periods (those ended before this one
    starts: periods cannot overlap)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(BoardPeriod.practitioners_trained), 0)).where(
            BoardPeriod.district_id == period.district_id,
            BoardPeriod.ends_on < period.starts_on,
        )
    )


def _cafs_before(day: date, district_id: int) -> tuple[int, int]:
    """CAFs started and completed at any time before `day`, counted as `figures` counts a
    period's (its monthly columns would make one column per month back to the first CAF)."""
    started, completed = db.session.execute(
        select(
            figures._counted(Case.created_at < figures._local_midnight(day)),
            figures._counted(Case.assessment_completed_on < day),
        ).where(*figures._cases(district_id))
    ).one()
    return int(started), int(completed)


def _organisations_up_to(last: date, district_id: int) -> int:
    return len(figures.organisations(_span(date.min, last), district_id))


def key_measures(period: BoardPeriod) -> list[Measure]:
    """Table 1. Previous totals cover all time before the period; organisations are counted
    once each, so their increase is those completing their first CAF in the period."""
    district_id = period.district_id
    started_before, completed_before = _cafs_before(period.starts_on, district_id)
    during = figures.totals(_span(period.starts_on, period.ends_on), district_id)
    organisations_before = _organisations_up_to(period.starts_on - timedelta(days=1), district_id)
    organisations_to_end = _organisations_up_to(period.ends_on, district_id)
    cafs = words().assessments_short
    return [
        Measure(f"{cafs} started", started_before, period.target_started, during.started),
        Measure(f"{cafs} completed", completed_before, period.target_completed, during.completed),
        Measure(
            f"Organisations completing {cafs}",
            organisations_before,
            period.target_organisations,
            organisations_to_end - organisations_before,
        ),
        Measure(
            "Practitioners trained",
            trained_before(period),
            period.target_trained,
            period.practitioners_trained,
        ),
    ]


def next_targets(period: BoardPeriod, measures: list[Measure] | None = None) -> list[NextTarget]:
    """Table 2: each measure's total at the end of this period and the next period's target."""
    measures = measures if measures is not None else key_measures(period)
    targets = (
        period.next_target_started,
        period.next_target_completed,
        period.next_target_organisations,
        period.next_target_trained,
    )
    return [
        NextTarget(measure.label, measure.total, target)
        for measure, target in zip(measures, targets, strict=True)
    ]


def _label_and_count(row) -> tuple[str, int]:
    # Rows are (label, count) or (label, detail, count): the label first, the count last.
    return str(row[0]), int(row[-1])


# --- the document ------------------------------------------------------------------------


def report_title(period: BoardPeriod) -> str:
    return (
        f"{period.district.name}: {words().assessment_short} implementation progress report to "
        "the Children's Trust Board"
    )


def board_report(period: BoardPeriod) -> bytes:
    """The .docx report for the board, from the period's inputs and the cases as they stand."""
    organisation = current_app.config["ORGANISATION_NAME"]
    district = period.district.name
    span = _span(period.starts_on, period.ends_on)
    w = words()
    measures = key_measures(period)
    totals = figures.totals(span, period.district_id)

    document = Document()
    _set_up_styles(document)
    _set_up_page(document, organisation)
    section = document.sections[0]
    # Every table here fits upright, and board papers are printed upright.
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Twips(11906), Twips(16838)
    _set_properties(document, period, organisation)

    document.add_heading(_clean(report_title(period)), level=1)
    _add_labelled(document, "Period", describe_period(period))
    _add_labelled(document, "Produced", short_date(london_today()))

    document.add_heading("1. Purpose", level=2)
    document.add_paragraph(
        _clean(
            f"This report tells the Children's Trust Board how the {w.assessment_in_full} is "
            f"being implemented in {district}: the {w.assessments_short} started and completed, "
            "the organisations completing them and the practitioners trained, against the targets "
            "for the period; the targets for the next period; the high risks and issues and "
            "what is being done about them; and the team's recommendations to the Board."
        )
    )

    document.add_heading("2. Summary of progress", level=2)
    document.add_paragraph(_clean(f"Progress in {district} is summarised in Table 1."))
    _add_caption(
        document,
        f"Table 1: Key measures for {w.assessment_short} implementation to {period.ends_on:%B %Y}",
    )
    table = _add_table(document, MEASURE_COLUMNS)
    for measure in measures:
        _add_figures_row(
            table,
            (measure.label, measure.previous, measure.target, measure.increase, measure.total),
        )
    _add_small(
        document,
        f"Previous total: all time before {short_date(period.starts_on)}. Total: up to "
        f"{short_date(period.ends_on)}. {w.a_assessment_short_cap} is started when the "
        f"{w.coordinator} receives it and completed on the date its assessment was completed; "
        f"{w.assessments_short} added to an existing {w.assessment_short} are not counted again. "
        "An organisation is counted once, when it completes its first "
        f"{w.assessment_short}. Practitioners trained are the numbers the {w.assessment_short} "
        "team recorded for each period.",
    )
    document.add_paragraph(
        f"In the period {_cafs(totals.closed)} closed; {_cafs(totals.open_at_end)} open "
        f"at the end of {short_date(period.ends_on)}."
    )

    document.add_heading("3. Targets for the next period", level=2)
    _add_caption(
        document, f"Table 2: Targets for {w.assessment_short} implementation in the next period"
    )
    table = _add_table(
        document,
        (
            ("Measure", 6.0),
            (f"Total to {short_date(period.ends_on)}", 4.0),
            ("Target for the next period", 4.0),
            ("Total by the end of the next period", 4.0),
        ),
    )
    for target in next_targets(period, measures):
        _add_figures_row(table, (target.label, target.now, target.target, target.total))

    document.add_heading("4. Risks and issues", level=2)
    _add_entries_table(
        document,
        "Table 3: Summary of high risks",
        RISK_COLUMNS,
        entries_of(period, BoardEntryKind.RISK),
        "No high risks were recorded for this period.",
    )
    _add_entries_table(
        document,
        "Table 4: Summary of high-priority issues",
        ISSUE_COLUMNS,
        entries_of(period, BoardEntryKind.ISSUE),
        "No high-priority issues were recorded for this period.",
    )

    document.add_heading("5. Recommendations", level=2)
    recommendations = entries_of(period, BoardEntryKind.RECOMMENDATION)
    if recommendations:
        document.add_paragraph("The report makes the following recommendations to the Board:")
        for entry in recommendations:
            document.add_paragraph(_clean(entry.text), style="List Number")
    else:
        document.add_paragraph("The report makes no recommendations to the Board this period.")

    document.add_heading(f"6. {w.assessment_short} activity in the period", level=2)
    _add_charts(document, period, span)

    document.add_heading("7. Missed deadlines and why", level=2)
    _add_missed_deadlines(document, figures.missed_deadlines(span, period.district_id))

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_charts(document: DocxDocument, period: BoardPeriod, span) -> None:
    district_id = period.district_id
    months = figures.monthly_counts(span, district_id)
    needs = [_label_and_count(row) for row in figures.needs_identified(span, district_id)]
    needs = needs[:NEEDS_SHOWN]  # most frequent first
    settings = [_label_and_count(row) for row in figures.settings(span, district_id)]
    cafs = words().assessments_short
    number = 0

    if any(row.started or row.completed or row.closed for row in months):
        number += 1
        _add_chart(
            document,
            charts.monthly_chart_png(months),
            f"Figure {number}: {cafs} started (received), completed and closed each month",
            "Bar chart by month. "
            + "; ".join(
                f"{row.month:%B %Y}: {row.started} started, {row.completed} completed, "
                f"{row.closed} closed"
                for row in months
            ),
        )
    else:
        document.add_paragraph(f"No {cafs} were started, completed or closed in the period.")

    title = f"Needs identified in {cafs} completed in the period (top {NEEDS_SHOWN})"
    if needs:
        number += 1
        _add_chart(
            document,
            charts.bar_chart_png(title, needs),
            f"Figure {number}: {title}",
            _pairs_text(needs),
        )
    else:
        document.add_paragraph(f"No needs were recorded for {cafs} in the period.")

    title = f"Where {cafs} came from: settings of the {cafs} completed in the period"
    if settings:
        number += 1
        _add_chart(
            document,
            charts.bar_chart_png(f"Where {cafs} came from", settings),
            f"Figure {number}: {title}",
            _pairs_text(settings),
        )
    else:
        document.add_paragraph(f"No {cafs} were completed in the period.")


def _add_missed_deadlines(document: DocxDocument, misses: list[figures.MissedDeadline]) -> None:
    """Seed 002 B3 and C1: the first discussions and reviews the forum held late in the
    period, and why, as the coordinator recorded it (cases by number: the board does not need
    the children's names)."""
    _add_caption(document, "Table 5: First discussions and reviews held after their deadline")
    if not misses:
        document.paragraphs[-1].paragraph_format.keep_with_next = False
        document.add_paragraph("No case was first discussed or reviewed after its deadline.")
        return
    table = _add_table(document, MISSED_COLUMNS)
    for missed in misses:
        _add_row(
            table,
            (
                f"Case {missed.case_id}",
                missed.deadline,
                short_date(missed.due_on),
                short_date(missed.held_on),
                missed.late_by,
                missed.why,
            ),
        )


def _cafs(count: int) -> str:
    w = words()
    return f"1 {w.assessment_short} was" if count == 1 else f"{count} {w.assessments_short} were"


def _pairs_text(pairs: list[tuple[str, int]]) -> str:
    return "Bar chart. " + "; ".join(f"{label}: {count}" for label, count in pairs)


def _add_chart(document: DocxDocument, png: bytes, caption: str, description: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_with_next = True
    shape = paragraph.add_run().add_picture(io.BytesIO(png), width=CHART_WIDTH)
    # The figures in words, for anyone reading with a screen reader.
    shape._inline.docPr.set("descr", _clean(description)[:2000])
    shape._inline.docPr.set("title", _clean(caption))
    caption_paragraph = _add_caption(document, caption)
    caption_paragraph.paragraph_format.keep_with_next = False
    caption_paragraph.paragraph_format.space_after = Pt(12)


def _add_caption(document: DocxDocument, text: str):
    paragraph = document.add_paragraph()
    paragraph.add_run(_clean(text)).bold = True
    # A caption on one page and its table on the next is hard to read.
    paragraph.paragraph_format.keep_with_next = True
    paragraph.paragraph_format.space_before = Pt(6)
    return paragraph


def _add_small(document: DocxDocument, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(_clean(text)).font.size = Pt(9)
    paragraph.paragraph_format.space_before = Pt(4)


def _add_figures_row(table: Table, values: tuple) -> None:
    _add_row(table, tuple(str(value) for value in values))
    for cell in table.rows[-1].cells[1:]:
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _add_entries_table(
    document: DocxDocument,
    caption: str,
    columns: tuple[tuple[str, float], ...],
    entries: list[BoardEntry],
    none_text: str,
) -> None:
    _add_caption(document, caption)
    if not entries:
        document.paragraphs[-1].paragraph_format.keep_with_next = False
        document.add_paragraph(none_text)
        return
    table = _add_table(document, columns)
    for entry in entries:
        _add_row(table, (entry.text, entry.response))


def _set_properties(document: DocxDocument, period: BoardPeriod, organisation: str) -> None:
    properties = document.core_properties
    properties.title = _clean(f"{report_title(period)}, {describe_period(period)}")
    properties.subject = f"{words().assessment_short} implementation progress report"
    properties.author = properties.last_modified_by = _clean(organisation)
    properties.category = PROTECTIVE_MARKING
    properties.keywords = PROTECTIVE_MARKING
    properties.comments = ""
    properties.language = "en-GB"
    now = utcnow().replace(microsecond=0)
    properties.created = properties.modified = now
    properties.revision = 1
