from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextInput
from wtforms import BooleanField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from maf.forms import (
    Form,
    GovDateField,
    GovRadioField,
    GovSelectField,
    GovTextAreaField,
)
from maf.outcomes.models import ClosureReason, LeadKind, Outcome

ROWS = 3  # services and actions per item: enough in the room; more at the next save


class ItemRecordForm(Form):
    discussion = GovTextAreaField("Discussion summary", validators=[Length(max=10000)])
    lead_kind = GovRadioField(
        "Lead professional", choices=LeadKind.choices(), validators=[Optional()]
    )
    lead_name = StringField(
        "Lead professional's name", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    lead_email = StringField(
        "Lead professional's email",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254),
            Email(
                message="Enter an email address like name@example.org", check_deliverability=False
            ),
        ],
    )
    lead_agency = GovSelectField("Lead professional's agency", coerce=int)
    lead_agreed = BooleanField("They agreed to be lead professional", widget=GovCheckboxInput())
    outcome = GovRadioField("Outcome", choices=Outcome.choices(), validators=[Optional()])
    next_review_on = GovDateField("Next review", validators=[Optional()])
    closure_reason = GovSelectField(
        "Why the CAF is closing",
        choices=[("", "Not closing")] + ClosureReason.choices(),
        validators=[Optional()],
    )
    outcome_notes = GovTextAreaField("Notes on the outcome", validators=[Length(max=5000)])

    def validate_lead_name(self, field):
        if self.lead_kind.data and not (field.data or "").strip():
            raise ValidationError("Enter the lead professional's name")

    def service_rows(self):
        return [
            (getattr(self, f"service_{n}_agency"), getattr(self, f"service_{n}_what"))
            for n in range(1, ROWS + 1)
        ]

    def action_rows(self):
        return [
            tuple(
                getattr(self, f"action_{n}_{part}")
                for part in ("what", "owner", "email", "agency", "due")
            )
            for n in range(1, ROWS + 1)
        ]

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for what, owner, _email, _agency, due in self.action_rows():
            if what.data or owner.data or due.data:
                for field, message in (
                    (what, "Enter what the action is"),
                    (owner, "Enter who will do it"),
                    (due, "Enter when it is due"),
                ):
                    if not field.data and not field.errors:
                        field.errors = [*field.errors, message]
                        valid = False
        for agency, what in self.service_rows():
            if agency.data and not (what.data or "").strip():
                what.errors = [*what.errors, "Enter what the agency will do"]
                valid = False
        return valid


for _n in range(1, ROWS + 1):
    setattr(
        ItemRecordForm, f"service_{_n}_agency", GovSelectField(f"Service {_n}: agency", coerce=int)
    )
    setattr(
        ItemRecordForm,
        f"service_{_n}_what",
        StringField(
            f"Service {_n}: what it will do",
            widget=GovTextInput(),
            validators=[Optional(), Length(max=500)],
        ),
    )
    setattr(
        ItemRecordForm,
        f"action_{_n}_what",
        StringField(
            f"Action {_n}: what", widget=GovTextInput(), validators=[Optional(), Length(max=500)]
        ),
    )
    setattr(
        ItemRecordForm,
        f"action_{_n}_owner",
        StringField(
            f"Action {_n}: owner", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
        ),
    )
    setattr(
        ItemRecordForm,
        f"action_{_n}_email",
        StringField(
            f"Action {_n}: owner's email",
            widget=GovTextInput(),
            validators=[
                Optional(),
                Length(max=254),
                Email(
                    message="Enter an email address like name@example.org",
                    check_deliverability=False,
                ),
            ],
        ),
    )
    setattr(
        ItemRecordForm,
        f"action_{_n}_agency",
        GovSelectField(f"Action {_n}: owner's agency", coerce=int),
    )
    setattr(
        ItemRecordForm,
        f"action_{_n}_due",
        GovDateField(f"Action {_n}: due", validators=[Optional()]),
    )


class AttendanceForm(Form):
    guests = GovTextAreaField(
        "Guests",
        description="One a line: name, then a comma and their agency",
        validators=[Length(max=3000)],
    )


class CorrectionForm(Form):
    note = GovTextAreaField(
        "What needs correcting?",
        description="Recorded with the new version, so readers know what changed",
        validators=[Length(max=2000)],
    )
