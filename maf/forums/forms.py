from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from maf.forms import (
    Form,
    GovCheckboxesField,
    GovDateField,
    GovIntegerField,
    GovRadioField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    GovTimeField,
    OnceField,
    VersionField,
)
from maf.forums.models import MemberRole
from maf.forums.services import joining_link_problem
from maf.rules import services as rules
from maf.rules.words import Worded

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
WEEKS = [(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth"), (-1, "Last")]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _minutes(label, low, high, default):
    return GovIntegerField(
        label,
        default=default,
        validators=[
            InputRequired(message=f"Enter {label.lower()}"),
            NumberRange(low, high, message=f"{label} must be between {low} and {high}"),
        ],
    )


class BreaksForm(Form):
    """Up to two breaks, for a forum's usual meetings or for one meeting."""

    break_1_starts_at = GovTimeField("First break starts at (optional)", validators=[Optional()])
    break_1_minutes = GovIntegerField(
        "First break length in minutes", validators=[Optional(), NumberRange(5, 120)]
    )
    break_2_starts_at = GovTimeField("Second break starts at (optional)", validators=[Optional()])
    break_2_minutes = GovIntegerField(
        "Second break length in minutes", validators=[Optional(), NumberRange(5, 120)]
    )

    def _break_pair(self, starts, minutes):
        if bool(starts.data) != bool(minutes.data):
            raise ValidationError("Enter both the start time and the length of the break")

    # On both fields of a pair: Optional() stops the chain of whichever one is blank.
    def validate_break_1_starts_at(self, field):
        self._break_pair(field, self.break_1_minutes)

    def validate_break_1_minutes(self, field):
        self._break_pair(self.break_1_starts_at, field)

    def validate_break_2_starts_at(self, field):
        self._break_pair(field, self.break_2_minutes)

    def validate_break_2_minutes(self, field):
        self._break_pair(self.break_2_starts_at, field)


class ForumForm(BreaksForm):
    district = GovSelectField("District", coerce=int)
    name = StringField(
        "Forum name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the forum's name"), Length(max=200)],
    )
    venue = StringField(
        "Usual venue",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the usual venue"), Length(max=300)],
    )
    chair = GovSelectField("Independent chair", coerce=int)
    coordinator = GovSelectField(Worded("{w.coordinator}"), coerce=int)
    week_of_month = GovSelectField("Week of the month", coerce=int, choices=WEEKS, default=2)
    weekday = GovSelectField("Day", coerce=int, choices=list(enumerate(WEEKDAYS)), default=1)
    months = GovCheckboxesField(
        "Months it meets in",
        coerce=int,
        choices=[(number, name) for number, name in enumerate(MONTHS, start=1)],
        default=[1, 4, 7, 10],
        validators=[InputRequired(message="Select the months the forum meets in")],
    )
    start_time = GovTimeField(
        "Usual start time", default=None, validators=[InputRequired(message="Enter the start time")]
    )
    length_minutes = _minutes("Length in minutes", 30, 600, 240)
    new_case_minutes = _minutes("Minutes for a new case", 5, 120, 20)
    review_minutes = _minutes("Minutes for a review", 1, 60, 5)
    # A new forum starts with the local rules' capacities (maf.rules); each forum keeps its own.
    new_case_capacity = _minutes(
        "New cases a meeting can take", 1, 30, lambda: rules.current("new_case_capacity")
    )
    review_capacity = _minutes(
        "Reviews a meeting can take", 0, 100, lambda: rules.current("review_capacity")
    )
    once = OnceField()  # used only when the form creates a forum
    version = VersionField()  # used only when the form changes a forum
    submit = SubmitField("Save forum", widget=GovSubmitInput())


class MemberForm(Form):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the member's name"), Length(max=200)],
    )
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the member's email address"),
            Length(max=254),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    agency = GovSelectField("Agency", coerce=int)
    role = GovRadioField(
        "Membership",
        choices=MemberRole.choices(),
        default=MemberRole.STANDING.value,
        validators=[InputRequired(message="Select standing member or observer")],
    )
    once = OnceField()
    submit = SubmitField("Add member", widget=GovSubmitInput())


def _joining_link(label: str, description: str) -> StringField:
    # Made in each form's body, so it comes where the page shows it in the error summary.
    return StringField(label, description=description, widget=GovTextInput())


class JoiningLinkForm(Form):
    """A form with a `joining_link` field, checked as a meeting's joining link."""

    def validate_joining_link(self, field):
        # A link pasted with a space either side is still the link (the service trims it).
        if problem := joining_link_problem((field.data or "").strip()):
            raise ValidationError(problem)


class ScheduleForm(JoiningLinkForm):
    year = GovIntegerField(
        "Year",
        validators=[
            InputRequired(message="Enter the year"),
            NumberRange(2000, 2100, message="Enter a year like 2027"),
        ],
    )
    joining_link = _joining_link(
        "Online joining link for these meetings (optional)",
        "For hybrid meetings that share one link, such as a recurring Microsoft Teams meeting. "
        "Each meeting's link can be changed when changing the meeting.",
    )
    once = OnceField()
    submit = SubmitField("Add the year's meetings", widget=GovSubmitInput())


class MeetingForm(BreaksForm, JoiningLinkForm):
    date = GovDateField("Date", validators=[InputRequired(message="Enter the date")])
    start_time = GovTimeField(
        "Start time", validators=[InputRequired(message="Enter the start time")]
    )
    # Blank (or not sent, by an older page) keeps the meeting's length.
    length_minutes = GovIntegerField(
        "Length in minutes",
        validators=[
            Optional(),
            NumberRange(30, 600, message="Length in minutes must be between 30 and 600"),
        ],
    )
    venue = StringField(
        "Venue",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the venue"), Length(max=300)],
    )
    joining_link = _joining_link(
        "Online joining link (optional)",
        "For a hybrid meeting: the link people use to join online, for example a Microsoft "
        "Teams link starting https://. Leave it empty if everyone meets in the room.",
    )
    reason = GovTextAreaField("Reason for the change", validators=[Length(max=1000)])

    version = VersionField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class CancelMeetingForm(Form):
    reason = GovTextAreaField("Why is the meeting cancelled?", validators=[Length(max=1000)])
    version = VersionField()
    submit = SubmitField("Cancel the meeting", widget=GovSubmitInput())


class CarryForm(Form):
    """Whether a forum's changed usual time, venue or breaks should reach its meetings whose
    agenda is not yet circulated (the question is the page's heading)."""

    apply = GovRadioField(
        "Apply the change to these meetings?",
        choices=[
            ("yes", "Yes, change these meetings"),
            ("no", "No, they keep their times, venue and breaks"),
        ],
        validators=[InputRequired(message="Select yes to change these meetings, or no")],
    )
    version = VersionField()  # the forum's, when the question was asked
    submit = SubmitField("Continue", widget=GovSubmitInput())
