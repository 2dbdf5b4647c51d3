from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from maf.answers.models import Response
from maf.forms import Form, GovRadioField, GovSelectField, GovSubmitInput

DEPUTY_NAME_MISSING = "Enter the name of the person coming in your place"


def _deputy_name(required: bool, label="Name of your deputy", hint="your agency", place="your"):
    return StringField(
        label,
        widget=GovTextInput(),
        description=f"The colleague from {hint} who will come in {place} place",
        filters=[lambda value: value.strip() if value else value],
        # Not Optional() when not required: it would stop the form's own check of the name.
        validators=[
            *([DataRequired(message=DEPUTY_NAME_MISSING)] if required else []),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )


def _invitation_id(value) -> int | None:
    """The chosen invitation's id; None for the empty "Choose a member" (which an HTML select
    that is required must start with)."""
    return int(value) if value not in ("", None) else None


class ConfirmAnswerForm(Form):
    """The one button behind a link in the email: the answer is the link's."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class ConfirmDeputyForm(Form):
    deputy_name = _deputy_name(required=True)
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RecordAnswerForm(Form):
    """A coordinator or the chair types in an answer given by phone or in person."""

    invitation = GovSelectField(
        "Member",
        coerce=_invitation_id,
        validators=[InputRequired(message="Select the member who answered")],
    )
    response = GovRadioField(
        "Their answer",
        choices=Response.choices(),
        validators=[InputRequired(message="Select the member's answer")],
    )
    deputy_name = _deputy_name(
        required=False, label="Name of their deputy", hint="their agency", place="their"
    )
    submit = SubmitField("Save the answer", widget=GovSubmitInput())

    def validate_invitation(self, field):
        if field.data is None:  # "Choose a member"
            raise ValidationError("Select the member who answered")

    def validate_deputy_name(self, field):
        if self.response.data == Response.DEPUTY and not field.data:
            raise ValidationError("Enter the name of the person coming in the member's place")
