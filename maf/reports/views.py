"""The reports page: the board's figures (seeds 000 and 004) for a district or the whole
authority, each as a chart with the same figures in a table, and every table as CSV."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import ValidationError
from wtforms.validators import StopValidation

from maf.audit import services as audit
from maf.auth.models import Role
from maf.auth.permissions import deny, roles_required, visible_district_ids
from maf.csv_guard import neutralised
from maf.dbtypes import utcnow
from maf.directory.models import District
from maf.extensions import db
from maf.forms import Form, GovDateField, GovSelectField
from maf.reports import charts, figures
from maf.reports.figures import LONDON, Period
from maf.rules.words import Worded, words

bp = Blueprint("reports", __name__)

WHOLE_AUTHORITY = "all"
LONGEST_YEARS = 5
# CAFs began in 2006; the bounds keep a mistyped year from reaching date arithmetic's limits.
FIRST_YEAR, LAST_YEAR = 2000, 2099
CHART_ITEMS = 10  # long lists are charted to their ten largest (seed 004's top ten needs)


# --- the form ----------------------------------------------------------------------------


class ReportDateField(GovDateField):
    """Day, month and year boxes on the page; one ISO date (2027-03-31) in the links to charts
    and CSV files, which are shown again in the boxes."""

    def process_formdata(self, valuelist):
        if len(valuelist) != 1:
            super().process_formdata(valuelist)
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data, self.raw_data = None, [valuelist[0], "", ""]
            raise ValueError(f"{self.label.text} must be a real date") from None
        self.raw_data = [str(self.data.day), str(self.data.month), str(self.data.year)]


def _required(message: str):
    def check(form, field):
        # A date typed wrongly has said what is wrong with it already.
        if field.data is None and not field.errors:
            raise StopValidation(message)

    return check


class ReportForm(Form):
    class Meta:
        csrf = False  # a GET form: it only chooses what to show

    district = GovSelectField("District")
    starts_on = ReportDateField(
        "From", name="from", validators=[_required("Enter the date the report starts from")]
    )
    ends_on = ReportDateField(
        "To", name="to", validators=[_required("Enter the date the report runs to")]
    )

    def validate_starts_on(self, field):
        _within_years(field)

    def validate_ends_on(self, field):
        _within_years(field)
        starts, ends = self.starts_on.data, field.data
        if starts is None or ends is None:
            return
        if ends < starts:
            raise ValidationError("The end date must be the same as or after the start date")
        if ends > starts + relativedelta(years=LONGEST_YEARS):
            raise ValidationError(f"A report can cover at most {LONGEST_YEARS} years")


def _within_years(field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"{field.label.text} must be between {FIRST_YEAR} and {LAST_YEAR}")


@dataclass(frozen=True)
class Scope:
    """What a report covers: a district (or the whole authority) over a period."""

    district: District | None
    period: Period

    @property
    def district_id(self) -> int | None:
        return self.district.id if self.district else None

    @property
    def place(self) -> str:
        return self.district.name if self.district else "Whole authority"

    @property
    def dates(self) -> str:
        return f"{self.period.starts_on:%-d %B %Y} to {self.period.ends_on:%-d %B %Y}"

    @property
    def args(self) -> dict[str, str]:
        """The query string of this report's charts and CSV files."""
        return {
            "district": str(self.district_id) if self.district else WHOLE_AUTHORITY,
            "from": self.period.starts_on.isoformat(),
            "to": self.period.ends_on.isoformat(),
        }

    def filename(self, name: str, extension: str) -> str:
        place = self.district.slug if self.district else "whole-authority"
        return (
            f"caf-{name}-{place}-{self.period.starts_on.isoformat()}-to-"
            f"{self.period.ends_on.isoformat()}.{extension}"
        )


def _district_choices() -> list[tuple[str, str]]:
    """Coordinators choose among their districts; admins among all, or the whole authority."""
    ids = visible_district_ids(current_user)
    query = select(District).order_by(District.name)
    if ids is not None:
        query = query.where(District.id.in_(ids))
    choices = [(str(district.id), district.name) for district in db.session.scalars(query)]
    return choices if ids is not None else [(WHOLE_AUTHORITY, "Whole authority"), *choices]


def _read_request() -> tuple[ReportForm | None, Scope | None]:
    """The form as asked for, and the report it asks for if it is valid; no form for a
    coordinator who has no district yet.

    A district the user may not see answers 404, as if it did not exist.
    """
    choices = _district_choices()
    if not choices:
        return None, None
    args = MultiDict(request.args)
    if "from" not in args and "to" not in args:
        default = figures.last_full_months(utcnow().astimezone(LONDON).date())
        args["from"], args["to"] = default.starts_on.isoformat(), default.ends_on.isoformat()
    args.setdefault("district", choices[0][0])
    form = ReportForm(args)
    form.district.choices = choices
    if args.get("district") not in {value for value, _label in choices}:
        deny(f"district {args.get('district')!r} out of scope", status=404)
    if not form.validate():
        return form, None
    district = None
    if form.district.data != WHOLE_AUTHORITY:
        district = db.session.get(District, int(form.district.data))
    return form, Scope(district, Period(form.starts_on.data, form.ends_on.data))


def _scope_or_400() -> Scope:
    form, scope = _read_request()
    if form is None:
        abort(404)
    if scope is None:
        abort(400)
    return scope


# --- what the page shows -----------------------------------------------------------------


@dataclass
class Table:
    caption: str
    head: list[str]
    rows: list[list]
    numeric: frozenset[int] = frozenset()  # columns of numbers, aligned right


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    # Reads the section's figures from the report's `Figures`.
    read: Callable[["Figures"], object]
    table: Callable[[object], Table]
    empty: str = ""  # what the page says instead of the chart and table when there is nothing
    is_empty: Callable[[object], bool] = lambda data: not data
    chart: Callable[[object], bytes] | None = None  # SVG
    chart_kind: str = "Bar chart"
    note: str = ""
    charted_items: int | None = None


class Figures:
    """The report's figures, each read from the database at most once per request."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self._read: dict = {}

    def __call__(self, function):
        if function not in self._read:
            self._read[function] = function(self.scope.period, self.scope.district_id)
        return self._read[function]


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _count_table(caption: str, label: str, count: str):
    def table(pairs) -> Table:
        return Table(caption, [label, count], [list(pair) for pair in pairs], frozenset({1}))

    return table


def _bars(title: str, top: bool = False):
    def chart(rows) -> bytes:
        # The first column names the bar, the last counts it.
        shown = [(row[0], row[-1]) for row in rows]
        return charts.bar_chart_svg(title, shown[:CHART_ITEMS] if top else shown)

    return chart


COMPLETED = Worded("{w.assessments_short} completed")
NONE_COMPLETED = Worded("No {w.assessments_short} were completed in this period.")
NO_LEAD_ROLES = Worded("No {w.lead_professional} roles were taken up in this period.")


def _totals(both) -> Table:
    totals, organisations = both
    w = words()
    return Table(
        "Key measures",
        ["Measure", "Number"],
        [
            [f"{w.assessments_short} started (received by the {w.coordinator})", totals.started],
            [f"{w.assessments_short} completed (assessment completed)", totals.completed],
            [f"{w.assessments_short} closed", totals.closed],
            [f"{w.assessments_short} open at the end of the period", totals.open_at_end],
            [f"Organisations that completed {w.assessments_short}", len(organisations)],
        ],
        frozenset({1}),
    )


def _monthly_table(rows) -> Table:
    return Table(
        charts.MONTHLY_TITLE,
        ["Month", "Received", "Completed", "Closed"],
        [[f"{row.month:%B %Y}", row.started, row.completed, row.closed] for row in rows],
        frozenset({1, 2, 3}),
    )


def _needs_table(rows) -> Table:
    return Table(
        Worded("Needs identified in the {w.assessments_short} completed"),
        ["Need statement", "Domain", "Times identified"],
        [list(row) for row in rows],
        frozenset({2}),
    )


def _organisations_table(rows) -> Table:
    return Table(
        Worded("Organisations that completed {w.assessments_short}"),
        ["Organisation", "Type", COMPLETED],
        [list(row) for row in rows],
        frozenset({2}),
    )


def _first_discussion_table(result) -> Table:
    within = result.within_20_working_days
    return Table(
        "Time from the assessment to the first forum discussion",
        ["Measure", "Value"],
        [
            ["Cases first discussed at a forum in the period", result.count],
            ["Median days from the assessment being completed", _number(result.median_days)],
            ["90th percentile of days (nearest rank)", _number(result.p90_days)],
            [
                "Discussed by the first-meeting deadline",
                f"{within} ({_percent(result.share_within_20_working_days)})",
            ],
        ],
        frozenset({1}),
    )


def _first_discussion_chart(result) -> bytes:
    return charts.bar_chart_svg(
        "First forum discussion: by the first-meeting deadline or later",
        [
            ("By the deadline", result.within_20_working_days),
            ("Later", result.count - result.within_20_working_days),
        ],
    )


def _reviews_table(result) -> Table:
    return Table(
        "Reviews held by the date the forum set",
        ["Measure", "Value"],
        [
            ["Reviews and sign-offs with a review date set", result.reviews],
            ["Held on or before that date", result.on_time],
            ["Share on time", _percent(result.share)],
        ],
        frozenset({1}),
    )


def _reviews_chart(result) -> bytes:
    return charts.bar_chart_svg(
        "Reviews on time or late",
        [("On time", result.on_time), ("Late", result.reviews - result.on_time)],
    )


def _missed_deadlines_table(misses) -> Table:
    # Cases by number, not the child's name: the figures go to the board.
    return Table(
        "Late first discussions and late reviews, with the reason recorded",
        ["Case", "Deadline", "Due by", "Discussed on", "Late by", "Why"],
        [
            [
                f"Case {missed.case_id}",
                missed.deadline,
                f"{missed.due_on:%-d %B %Y}",
                f"{missed.held_on:%-d %B %Y}",
                missed.late_by,
                missed.why,
            ]
            for missed in misses
        ],
    )


def _forum_use_table(meetings) -> Table:
    return Table(
        "Cases discussed at each forum meeting, against its places",
        ["Meeting", "Forum", "New cases", "New-case places", "Reviews", "Review places"],
        [
            [
                f"{m.date:%-d %B %Y}",
                m.forum,
                m.new_cases,
                m.new_capacity,
                m.reviews,
                m.review_capacity,
            ]
            for m in meetings
        ],
        frozenset({2, 3, 4, 5}),
    )


SECTIONS = (
    Section(
        "totals",
        "Key measures",
        lambda f: (f(figures.totals), f(figures.organisations)),
        _totals,
        note=Worded(
            "{w.a_assessment_short_cap} counts as open at the end of the period unless it was "
            "closed by then, or has since been withdrawn, stepped up to statutory services or "
            "added to another {w.assessment_short}."
        ),
    ),
    Section(
        "monthly",
        Worded("{w.assessments_short} each month"),
        lambda f: f(figures.monthly_counts),
        _monthly_table,
        chart=charts.monthly_chart_svg,
        chart_kind="Bar chart by month",
    ),
    Section(
        "needs",
        "Needs identified",
        lambda f: f(figures.needs_identified),
        _needs_table,
        empty=Worded(
            "No need statements were recorded in {w.assessments_short} completed in this period."
        ),
        chart=_bars("Needs identified (most frequent)", top=True),
        charted_items=CHART_ITEMS,
    ),
    Section(
        "ages",
        "Ages at assessment",
        lambda f: f(figures.age_bands),
        _count_table(
            Worded("Age at assessment of the {w.assessments_short} completed"), "Age", COMPLETED
        ),
        empty=NONE_COMPLETED,
        is_empty=lambda bands: not any(count for _band, count in bands),
        chart=_bars("Age at assessment"),
    ),
    Section(
        "settings",
        Worded("Where {w.assessments_short} came from"),
        lambda f: f(figures.settings),
        _count_table(
            Worded("Settings of the {w.assessments_short} completed"), "Setting", COMPLETED
        ),
        empty=NONE_COMPLETED,
        chart=_bars(Worded("Where {w.assessments_short} came from")),
    ),
    Section(
        "organisations",
        Worded("Organisations completing {w.assessments_short}"),
        lambda f: f(figures.organisations),
        _organisations_table,
        empty=NONE_COMPLETED,
        chart=_bars(
            Worded("Organisations completing {w.assessments_short} (most {w.assessments_short})"),
            top=True,
        ),
        charted_items=CHART_ITEMS,
    ),
    Section(
        "lead-agencies",
        Worded("{w.lead_professionals_cap} by agency"),
        lambda f: f(figures.lead_roles)[0],
        _count_table(
            Worded("{w.lead_professional_cap} roles taken up, by agency"), "Agency", "Roles"
        ),
        empty=NO_LEAD_ROLES,
        chart=_bars(Worded("{w.lead_professionals_cap} by agency (most roles)"), top=True),
        charted_items=CHART_ITEMS,
    ),
    Section(
        "lead-types",
        Worded("{w.lead_professionals_cap} by type of agency"),
        lambda f: f(figures.lead_roles)[1],
        _count_table(
            Worded("{w.lead_professional_cap} roles taken up, by type of agency"), "Type", "Roles"
        ),
        empty=NO_LEAD_ROLES,
        chart=_bars(Worded("{w.lead_professionals_cap} by type of agency")),
    ),
    Section(
        "first-discussion",
        "Time to the first forum discussion",
        lambda f: f(figures.first_discussion),
        _first_discussion_table,
        empty="No cases had their first forum discussion in this period.",
        is_empty=lambda result: result.count == 0,
        chart=_first_discussion_chart,
        note="The first Team Around the Child meeting is due within the working days the local "
        "rules set when the assessment was completed (20 in the source standards); weekends and "
        "bank holidays in England do not count.",
    ),
    Section(
        "reviews",
        "Reviews on time",
        lambda f: f(figures.reviews_on_time),
        _reviews_table,
        empty="No reviews with a review date were held in this period.",
        is_empty=lambda result: result.reviews == 0,
        chart=_reviews_chart,
        note="The plan is reviewed within the local rules' review interval (three months in the "
        "source standards) of each discussion. A review counts when the forum set its date at "
        "the case's previous discussion.",
    ),
    Section(
        "missed-deadlines",
        "Missed deadlines and why",
        lambda f: f(figures.missed_deadlines),
        _missed_deadlines_table,
        empty="No case was first discussed or reviewed after its deadline in this period.",
        note="The late first discussions and late reviews counted above, with the reason the "
        "coordinator recorded for each.",
    ),
    Section(
        "forum-use",
        "Forum meetings",
        lambda f: f(figures.forum_use),
        _forum_use_table,
        empty="No forum meetings were held in this period.",
        chart=charts.forum_use_chart_svg,
        note="Places are each forum's current limits on new cases and reviews.",
    ),
)
SECTIONS_BY_NAME = {section.name: section for section in SECTIONS}


@dataclass(frozen=True)
class Shown:
    section: Section
    table: Table
    is_empty: bool
    alt: str


def _alt(section: Section, scope: Scope, table: Table) -> str:
    what = section.title[0].lower() + section.title[1:]
    shown = ""
    if section.charted_items and len(table.rows) > section.charted_items:
        shown = f", the {section.charted_items} largest of {len(table.rows)}"
    return (
        f"{section.chart_kind} of {what}{shown}, {scope.place}, {scope.dates}. "
        "The figures are in the table below."
    )


# --- the views ---------------------------------------------------------------------------


@bp.get("/reports")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def index():
    form, scope = _read_request()
    shown = []
    if scope is not None:
        read = Figures(scope)
        for section in SECTIONS:
            data = section.read(read)
            table = section.table(data)
            empty = bool(section.empty) and section.is_empty(data)
            shown.append(Shown(section, table, empty, _alt(section, scope, table)))
        audit.record_now("report_viewed", detail=f"{scope.place}, {scope.dates}")
    return render_template("reports/index.html", form=form, scope=scope, shown=shown)


@bp.get("/reports/charts/<name>.svg")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def chart(name: str):
    section = SECTIONS_BY_NAME.get(name)
    if section is None or section.chart is None:
        abort(404)
    scope = _scope_or_400()
    svg = section.chart(section.read(Figures(scope)))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports/tables/<name>.csv")
@roles_required(Role.COORDINATOR, Role.ADMIN)
def table_csv(name: str):
    section = SECTIONS_BY_NAME.get(name)
    if section is None:
        abort(404)
    scope = _scope_or_400()
    table = section.table(section.read(Figures(scope)))
    audit.record_now("report_exported", detail=f"{name}.csv: {scope.place}, {scope.dates}")
    response = Response(as_csv(table), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{scope.filename(name, "csv")}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def as_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralised(cell) for cell in table.head])
    writer.writerows([neutralised(cell) for cell in row] for row in table.rows)
    # The byte-order mark makes Excel read the file as UTF-8, so names keep their accents.
    return "\ufeff" + buffer.getvalue()
