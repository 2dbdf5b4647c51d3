"""Forms for the CAF audit, the outcomes page and the archive search (seed 002 D3 and E)."""

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField, ValidationError
from wtforms.validators import InputRequired, Length, Optional

from maf.forms import (
    Form,
    GovDateField,
    GovRadioField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
)
from maf.reports.models import Rating
from maf.rules.words import Worded


def _length(label: str, limit: int) -> Length:
    return Length(max=limit, message=f"{label} must be {limit} characters or fewer")


class DrawSampleForm(Form):
    # No InputRequired: its `required` on a select whose first option is a quarter, not an
    # empty placeholder, is invalid HTML; GovSelectField already refuses anything but one of
    # the quarters, with "Select the quarter".
    quarter = GovSelectField("Quarter")
    seed = StringField(
        "Seed (optional)",
        description="Leave blank for a random draw. Enter a sample's seed to check that its "
        "choice can be reproduced.",
        widget=GovTextInput(),
        validators=[Optional(), _length("The seed", 64)],
    )
    once = OnceField()
    submit = SubmitField("Draw the sample", widget=GovSubmitInput())


class CaseAuditForm(Form):
    process_quality = GovRadioField(
        Worded("How good was the quality of the {w.assessment_short} process?"),
        choices=Rating.choices(),
        validators=[
            InputRequired(
                message=Worded(
                    "Select how good the quality of the {w.assessment_short} process was"
                )
            )
        ],
    )
    outcome_impact = GovRadioField(
        Worded("How much impact did the {w.assessment_short} have on the child's outcomes?"),
        choices=Rating.choices(),
        validators=[
            InputRequired(
                message=Worded("Select how much impact the {w.assessment_short} had on outcomes")
            )
        ],
    )
    notes = GovTextAreaField(
        "Notes (optional)",
        description="Training, supervision or support needs the audit found (seed 002 E).",
        validators=[Optional(), _length("The notes", 5000)],
    )
    auditor_name = StringField(
        "Auditor",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the name of the auditor"),
            _length("The auditor's name", 200),
        ],
    )
    audited_on = GovDateField(
        "Date of the audit",
        description="For example, 27 3 2027",
        validators=[InputRequired(message="Enter the date of the audit")],
    )
    submit = SubmitField("Save the audit", widget=GovSubmitInput())


class OutcomesPeriodForm(Form):
    """Read from the query string: changing the period changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    starts_on = GovDateField("From", validators=[InputRequired(message="Enter the first date")])
    ends_on = GovDateField("To", validators=[InputRequired(message="Enter the last date")])
    submit = SubmitField("Show", widget=GovSubmitInput())

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("The last date must be on or after the first date")


class ArchiveSearchForm(Form):
    class Meta:
        csrf = False

    q = StringField(
        "Case number",
        description="Archived cases are found by their case number only.",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a case number")],
    )
    submit = SubmitField("Search the archive", widget=GovSubmitInput())

    def validate_q(self, field):
        text = (field.data or "").strip()
        if text.lower().startswith("case"):
            text = text[4:].strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise ValidationError("Enter a case number, like 1234")
        field.data = text

    @property
    def case_number(self) -> int:
        return int(self.q.data)
