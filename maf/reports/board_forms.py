"""Forms for the Children's Trust Board report (seed 000): starting a reporting period, the
figures the CAF team types in, and the risks, issues and recommendations."""

from wtforms import SubmitField
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    StopValidation,
    ValidationError,
)

from maf.forms import (
    Form,
    GovDateField,
    GovIntegerField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
    VersionField,
)
from maf.reports.board import INPUT_LABELS
from maf.rules.words import followed_by, made_from

# Far above any district's figures; it keeps a slipped key from reaching the database as an
# integer too large for its column.
LARGEST_FIGURE = 1_000_000
TEXT_LENGTH = 2000


class WholeNumberField(GovIntegerField):
    """WTForms says "Not a valid integer value."; the GOV.UK pattern names the field."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip().replace(",", "") if valuelist else ""
        if not text:
            self.data = None  # InputRequired says what is missing
            return
        try:
            super().process_formdata([text])
        except ValueError:
            raise ValueError(f"{self.label.text} must be a whole number, like 12") from None

    def pre_validate(self, form):
        # Text that is not a number has said so already; the range check would only repeat it.
        if self.process_errors:
            raise StopValidation()


def _figure(label: str) -> WholeNumberField:
    return WholeNumberField(
        label,
        default=0,
        validators=[
            InputRequired(
                message=made_from(label, lambda text: f"Enter the {text[0].lower()}{text[1:]}")
            ),
            NumberRange(
                0,
                LARGEST_FIGURE,
                message=followed_by(label, f" must be between 0 and {LARGEST_FIGURE:,}"),
            ),
        ],
    )


# (form field, model attribute) pairs are the same names, so the view copies them across.
TARGET_FIELDS = ("target_started", "target_completed", "target_organisations", "target_trained")
NEXT_TARGET_FIELDS = (
    "next_target_started",
    "next_target_completed",
    "next_target_organisations",
    "next_target_trained",
)
INPUT_FIELDS = (*TARGET_FIELDS, "practitioners_trained", *NEXT_TARGET_FIELDS)


class StartPeriodForm(Form):
    district = GovSelectField("District", coerce=int)
    starts_on = GovDateField("From", validators=[InputRequired(message="Enter the first day")])
    ends_on = GovDateField("To", validators=[InputRequired(message="Enter the last day")])
    submit = SubmitField("Start the period", widget=GovSubmitInput())

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("The last day must be the same as or after the first day")


class InputsForm(Form):
    target_started = _figure(INPUT_LABELS["target_started"])
    target_completed = _figure(INPUT_LABELS["target_completed"])
    target_organisations = _figure(INPUT_LABELS["target_organisations"])
    target_trained = _figure(INPUT_LABELS["target_trained"])
    practitioners_trained = _figure(INPUT_LABELS["practitioners_trained"])
    next_target_started = _figure(INPUT_LABELS["next_target_started"])
    next_target_completed = _figure(INPUT_LABELS["next_target_completed"])
    next_target_organisations = _figure(INPUT_LABELS["next_target_organisations"])
    next_target_trained = _figure(INPUT_LABELS["next_target_trained"])
    version = VersionField()
    submit = SubmitField("Save the figures", widget=GovSubmitInput())


def _text(label: str, message: str) -> GovTextAreaField:
    return GovTextAreaField(
        label,
        validators=[
            InputRequired(message=message),
            Length(max=TEXT_LENGTH, message=f"{label} must be {TEXT_LENGTH:,} characters or fewer"),
        ],
    )


class EntryForm(Form):
    """A risk, issue or recommendation: each sent once, however often Add is pressed."""

    once = OnceField()


class RiskForm(EntryForm):
    text = _text("Risk", "Enter the risk")
    response = _text("Mitigating action", "Enter the mitigating action")
    submit = SubmitField("Add the risk", widget=GovSubmitInput())


class IssueForm(EntryForm):
    text = _text("Issue", "Enter the issue")
    response = _text("Solution", "Enter the solution")
    submit = SubmitField("Add the issue", widget=GovSubmitInput())


class RecommendationForm(EntryForm):
    text = _text("Recommendation", "Enter the recommendation")
    submit = SubmitField("Add the recommendation", widget=GovSubmitInput())
