from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from maf.auth.models import Role, User, UserRole
from maf.auth.permissions import (
    can_see_agenda,
    forum_or_404,
    manages_agenda,
    manages_forum,
    meeting_or_404,
    records_meeting,
    roles_required,
    signed_in,
)
from maf.circulation import services as circulation
from maf.dbtypes import london_today
from maf.directory.models import Agency, District
from maf.directory.services import agencies, choices
from maf.extensions import db
from maf.forms import attach_error, show_newer_version
from maf.forums import forms, services
from maf.forums.models import ForumMember, MemberRole
from maf.invitations.services import member_invitations
from maf.submissions import AlreadySaved
from maf.versioning import StaleEdit, last_changed_by

bp = Blueprint("forums", __name__)


def _people_with(role: Role) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == role, User.active)
            .order_by(User.name)
        )
    )


@bp.route("/forums")
@signed_in
def index():
    return render_template("forums/index.html", forums=services.forums_visible_to(current_user))


def _forum_form(forum=None) -> forms.ForumForm:
    form = forms.ForumForm(obj=forum)
    districts = (
        db.session.scalars(select(District).order_by(District.name)).all()
        if current_user.has_role(Role.ADMIN)
        else current_user.districts
    )
    form.district.choices = [(d.id, d.name) for d in districts]
    form.chair.choices = [(0, "Not chosen yet")] + [
        (u.id, u.name) for u in _people_with(Role.CHAIR)
    ]
    form.coordinator.choices = [(0, "Not chosen yet")] + [
        (u.id, u.name) for u in _people_with(Role.COORDINATOR)
    ]
    if forum is not None and not form.is_submitted():
        form.months.data = forum.month_numbers
        form.district.data, form.chair.data = forum.district_id, forum.chair_id or 0
        form.coordinator.data = forum.coordinator_id or 0
        _show_breaks(form, forum.breaks)
    return form


def _show_breaks(form: forms.BreaksForm, breaks) -> None:
    for number, shown in enumerate(breaks[:2], start=1):
        getattr(form, f"break_{number}_starts_at").data = shown.starts_at
        getattr(form, f"break_{number}_minutes").data = shown.minutes


def _breaks(form: forms.BreaksForm) -> list:
    return [
        (getattr(form, f"break_{n}_starts_at").data, getattr(form, f"break_{n}_minutes").data)
        for n in (1, 2)
        if getattr(form, f"break_{n}_starts_at").data
    ]


def _details(form) -> services.ForumDetails:
    return services.ForumDetails(
        district=db.session.get(District, form.district.data),
        name=form.name.data,
        venue=form.venue.data,
        chair=db.session.get(User, form.chair.data) if form.chair.data else None,
        coordinator=db.session.get(User, form.coordinator.data) if form.coordinator.data else None,
        weekday=form.weekday.data,
        week_of_month=form.week_of_month.data,
        months=form.months.data,
        start_time=form.start_time.data,
        length_minutes=form.length_minutes.data,
        new_case_minutes=form.new_case_minutes.data,
        review_minutes=form.review_minutes.data,
        new_case_capacity=form.new_case_capacity.data,
        review_capacity=form.review_capacity.data,
        breaks=_breaks(form),
    )


@bp.route("/forums/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def create():
    form = _forum_form()
    if form.validate_on_submit():
        try:
            forum = services.save_forum(None, _details(form), current_user, once=form.once.data)
        except AlreadySaved as saved:
            flash(str(saved))
            if saved.object_id is None:
                return redirect(url_for("forums.index"))
            return redirect(url_for("forums.show", forum_id=saved.object_id))
        except services.ForumError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            flash("Forum saved. Add its members and its meetings below.")
            return redirect(url_for("forums.show", forum_id=forum.id))
    return render_template("forums/form.html", form=form, forum=None)


@bp.route("/forums/<int:forum_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def edit(forum_id: int):
    forum = forum_or_404(forum_id, manage=True)
    form = _forum_form(forum)
    if form.validate_on_submit():
        try:
            changed = services.change_forum(
                forum, _details(form), current_user, version=form.version.data
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            return render_template("forums/form.html", form=form, forum=forum, stale=stale), 409
        except services.ForumError as error:
            db.session.rollback()
            attach_error(form, error, "name")
        else:
            flash("Forum saved.")
            if changed and services.carry_plan(forum, changed).asks:
                # Its meetings yet to start kept the old ones: ask before changing them.
                return redirect(
                    url_for("forums.carry_changes", forum_id=forum.id, changed=",".join(changed))
                )
            return redirect(url_for("forums.show", forum_id=forum.id))
    return render_template("forums/form.html", form=form, forum=forum)


@bp.route("/forums/<int:forum_id>/meetings/follow", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def carry_changes(forum_id: int):
    """After a forum's usual start time, length, venue or breaks changed (`?changed=`, all
    of them if absent): which meetings yet to start differ, and whether to change them."""
    forum = forum_or_404(forum_id, manage=True)
    fields = services.usual_fields(request.args.get("changed", "").split(","))
    form = forms.CarryForm(version=forum.version)
    status, stale = 200, None
    if form.validate_on_submit():
        if form.apply.data == "no":
            flash("Only the forum changed: future meetings keep their times, venue and breaks.")
            return redirect(url_for("forums.show", forum_id=forum.id, _anchor="meetings"))
        try:
            changed = services.carry_to_meetings(
                forum, fields, current_user, version=form.version.data
            )
        except StaleEdit as error:
            db.session.rollback()
            show_newer_version(form, error)
            status, stale = 409, error
        else:
            flash(_carried(changed))
            return redirect(url_for("forums.show", forum_id=forum.id, _anchor="meetings"))
    elif form.is_submitted():
        status = 400
    page = render_template(
        "forums/carry.html",
        form=form,
        forum=forum,
        plan=services.carry_plan(forum, fields),
        what=services.usual_in_words(fields),
        stale=stale,
    )
    return page, status


def _carried(meetings) -> str:
    if not meetings:
        # A second submit (or the Back button): the first one already changed them.
        return "No meeting needed changing: they already have the forum's usual arrangements."
    days = ", ".join(f"{meeting.date:%A %-d %B %Y}" for meeting in meetings)
    return f"{len(meetings)} {'meeting' if len(meetings) == 1 else 'meetings'} changed: {days}."


def _member_form() -> forms.MemberForm:
    form = forms.MemberForm()
    form.agency.choices = choices(agencies())
    return form


def _render_forum(forum, member_form=None, schedule_form=None, status=200):
    return (
        render_template(
            "forums/show.html",
            forum=forum,
            manages=manages_forum(current_user, forum),
            builds_agendas=manages_agenda(current_user, forum),
            records=records_meeting(current_user, forum),
            sees_agendas=can_see_agenda(current_user, forum),
            members=services.active_members(forum),
            # Members with no account: their pending invitation, or None ("Invite to MAF").
            to_invite=member_invitations(forum) if manages_forum(current_user, forum) else {},
            pattern=services.pattern_text(forum),
            breaks_text=services.breaks_text(forum),
            meetings=[(meeting, services.meeting_actions(meeting)) for meeting in forum.meetings],
            today=london_today(),
            # Planned meetings that kept older usual arrangements (the coordinator said no,
            # or moved one): the way back to the question.
            differing=len(services.carry_plan(forum, list(services.USUAL)).to_change)
            if manages_forum(current_user, forum)
            else 0,
            member_form=member_form or _member_form(),
            schedule_form=schedule_form
            or forms.ScheduleForm(formdata=None, year=london_today().year + 1),
        ),
        status,
    )


@bp.route("/forums/<int:forum_id>")
@signed_in
def show(forum_id: int):
    return _render_forum(forum_or_404(forum_id))


@bp.route("/forums/<int:forum_id>/members", methods=["POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def add_member(forum_id: int):
    forum = forum_or_404(forum_id, manage=True)
    form = _member_form()
    if form.validate_on_submit():
        try:
            services.add_member(
                forum,
                name=form.name.data,
                email=form.email.data,
                agency=db.session.get(Agency, form.agency.data),
                role=MemberRole(form.role.data),
                user=current_user,
                once=form.once.data,
            )
        except AlreadySaved as saved:
            flash(str(saved))
            return redirect(url_for("forums.show", forum_id=forum.id, _anchor="members"))
        except services.ForumError as error:
            db.session.rollback()
            attach_error(form, error, "email")
        else:
            flash(f"{form.name.data} added to the forum.")
            return redirect(url_for("forums.show", forum_id=forum.id, _anchor="members"))
    return _render_forum(forum, member_form=form, status=400)


@bp.route("/forums/<int:forum_id>/members/<int:member_id>/remove", methods=["POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def remove_member(forum_id: int, member_id: int):
    forum = forum_or_404(forum_id, manage=True)
    member = db.session.get(ForumMember, member_id)
    if member is not None and member.forum_id == forum.id and member.active:
        services.remove_member(member, current_user)
        flash(f"{member.name} no longer receives this forum's papers.")
    elif member is not None and member.forum_id == forum.id:
        # Removed by someone else since this page was drawn: say so, rather than nothing.
        removed_by = last_changed_by(member)
        by = f" by {removed_by}" if removed_by else ""
        flash(f"{member.name} had already been removed{by}.")
    return redirect(url_for("forums.show", forum_id=forum.id, _anchor="members"))


@bp.route("/forums/<int:forum_id>/schedule", methods=["POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def generate_schedule(forum_id: int):
    forum = forum_or_404(forum_id, manage=True)
    form = forms.ScheduleForm()
    if not form.validate_on_submit():
        return _render_forum(forum, schedule_form=form, status=400)
    try:
        created = services.generate_schedule(
            forum,
            form.year.data,
            current_user,
            once=form.once.data,
            joining_link=form.joining_link.data or "",
        )
    except AlreadySaved as saved:
        flash(str(saved))
    except services.ForumError as error:
        db.session.rollback()
        attach_error(form, error, "year")
        return _render_forum(forum, schedule_form=form, status=400)
    else:
        flash(
            f"{len(created)} meetings added for {form.year.data}."
            if created
            else f"Every month of the pattern in {form.year.data} already has a meeting."
        )
    return redirect(url_for("forums.show", forum_id=forum.id, _anchor="meetings"))


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def edit_meeting(meeting_id: int):
    meeting = meeting_or_404(meeting_id, manage=True)
    form = forms.MeetingForm(obj=meeting)
    if not form.is_submitted():
        _show_breaks(form, meeting.breaks)
    if form.validate_on_submit():
        try:
            services.reschedule_meeting(
                meeting,
                day=form.date.data,
                start_time=form.start_time.data,
                venue=form.venue.data,
                length_minutes=form.length_minutes.data,
                # A page drawn before the meeting had breaks of its own does not send them.
                breaks=_breaks(form) if "break_1_starts_at" in request.form else None,
                # Likewise a page drawn before meetings had joining links.
                joining_link=form.joining_link.data if "joining_link" in request.form else None,
                reason=form.reason.data or "",
                user=current_user,
                version=form.version.data,
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            page = render_template(
                "forums/meeting_form.html", form=form, meeting=meeting, stale=stale
            )
            return page, 409
        except services.ForumError as error:
            db.session.rollback()
            attach_error(form, error, "date")
        else:
            flash("Meeting changed. The change is kept in its history.")
            return redirect(url_for("forums.show", forum_id=meeting.forum_id, _anchor="meetings"))
    return render_template("forums/meeting_form.html", form=form, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def cancel_meeting(meeting_id: int):
    meeting = meeting_or_404(meeting_id, manage=True)
    form = forms.CancelMeetingForm(version=meeting.version)
    if form.validate_on_submit():
        try:
            sent = circulation.cancel_meeting(
                meeting, form.reason.data or "", current_user, version=form.version.data
            )
        except StaleEdit as stale:
            db.session.rollback()
            show_newer_version(form, stale)
            page = render_template("forums/cancel.html", form=form, meeting=meeting, stale=stale)
            return page, 409
        except services.ForumError as error:
            db.session.rollback()
            attach_error(form, error, "reason")
        else:
            flash(
                f"Meeting cancelled. {sent} calendar cancellations are on their way."
                if sent
                else "Meeting cancelled."
            )
            return redirect(url_for("forums.show", forum_id=meeting.forum_id, _anchor="meetings"))
    return render_template("forums/cancel.html", form=form, meeting=meeting)
