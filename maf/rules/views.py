from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from maf.auth.models import Role
from maf.auth.permissions import roles_required
from maf.dbtypes import LONDON, london_today, utcnow
from maf.errors import DomainError
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.reports import retention
from maf.rules import services
from maf.rules.forms import RuleForm
from maf.rules.models import RuleChange
from maf.versioning import StaleEdit

bp = Blueprint("rules", __name__)

SECTIONS = (
    ("Timescales", ("first_meeting_working_days", "review_interval")),
    ("Forum capacities", ("new_case_capacity", "review_capacity")),
    ("Retention of closed cases", ("retention_years_accessible", "retention_years_archived")),
    ("Quality assurance", ("audit_sample_one_in",)),
    ("Reminders", ("answer_reminder_working_days", "action_reminder_working_days")),
    (
        "Words the service uses",
        (
            "word_assessment",
            "word_assessment_short",
            "word_forum",
            "word_forum_short",
            "word_lead_professional",
        ),
    ),
)
RETENTION_RULES = ("retention_years_accessible", "retention_years_archived")


@dataclass(frozen=True)
class RuleState:
    """A rule as the rules page shows it."""

    rule: services.Rule
    value: object
    history: list[RuleChange]
    coming: RuleChange | None  # a change that takes effect later

    @property
    def last_change(self) -> RuleChange | None:
        now = utcnow()
        return next((c for c in self.history if c.effective_from <= now), None)


def _states() -> dict[str, RuleState]:
    now = utcnow()
    histories = services.histories()
    return {
        name: RuleState(
            rule,
            services.current(name),
            histories[name],
            next((c for c in reversed(histories[name]) if c.effective_from > now), None),
        )
        for name, rule in services.RULES.items()
    }


@bp.app_context_processor
def _local_rules():
    """`local_rule(name)` in every template: pages that state a rule state the one in force."""
    return {"local_rule": services.current}


@bp.route("/rules")
@roles_required(Role.ADMIN)
def index():
    return render_template("rules/index.html", sections=SECTIONS, states=_states())


@dataclass(frozen=True)
class RetentionPreview:
    """What the next nightly run would archive and destroy, with the change and without it."""

    value: int
    archived: int
    destroyed: int
    archived_now: int
    destroyed_now: int


def _retention_preview(name: str, value: int, starts_on) -> RetentionPreview:
    """What the first nightly run under the change would do: the next run, or the run on the
    day a change from a later date starts."""
    now = retention.RetentionPeriods.in_force()
    proposed = retention.RetentionPeriods(
        value if name == "retention_years_accessible" else now.accessible,
        value if name == "retention_years_archived" else now.archived,
    )
    next_run = max(_next_nightly_run_day(), starts_on or london_today())
    with_change = retention.apply_retention(next_run, dry_run=True, periods=proposed)
    without = retention.apply_retention(next_run, dry_run=True)
    return RetentionPreview(
        value,
        len(with_change.archived),
        len(with_change.destroyed),
        len(without.archived),
        len(without.destroyed),
    )


def _next_nightly_run_day():
    """The day the retention job (maf.jobs, 02:15) next runs for."""
    now = utcnow().astimezone(LONDON)
    return now.date() if now.time() < time(2, 15) else now.date() + timedelta(days=1)


def _effective_from(day) -> datetime | None:
    """A chosen date takes effect at the start of that day in England; today (or none) now."""
    if day is None or day == london_today():
        return None
    return datetime.combine(day, time(0), LONDON)


@bp.route("/rules/<rule_name>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def change(rule_name: str):
    name = rule_name
    rule = services.RULES.get(name)
    if rule is None:
        abort(404)
    form = RuleForm()
    form.value.label.text = f"New {rule.label[0].lower()}{rule.label[1:]}"
    if not form.is_submitted():
        form.value.data = str(services.current(name))
        form.version.data = services.version_of(name)
    stale = preview = None
    if form.validate_on_submit():
        try:
            value = rule.parse(form.value.data)
            if (
                name in RETENTION_RULES
                and value != services.current(name)
                and form.confirmed.data != str(value)
            ):
                # Shown first, saved only when sent again with this value confirmed.
                preview = _retention_preview(name, value, form.effective_from.data)
                form.confirmed.data = str(value)
            else:
                services.change(
                    name,
                    value,
                    by=current_user,
                    reason=form.reason.data,
                    effective_from=_effective_from(form.effective_from.data),
                    version=form.version.data,
                )
                db.session.commit()
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            stale = error
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "value")
        else:
            if preview is None:
                flash(f"{rule.label} saved.")
                return redirect(url_for("rules.index", _anchor=name))
    state = _states()[name]
    return render_template(
        "rules/change.html", form=form, rule=rule, state=state, stale=stale, preview=preview
    ), (409 if stale else 200)
