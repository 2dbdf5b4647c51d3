from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from maf.answers.models import Response
from maf.forms import Form, GovRadioField, GovSubmitInput

DEPUTY_NAME_MISSING = "Enter the name of the person coming in your place"


def _deputy_name(required: bool) -> StringField:
    return StringField(
        "Name of your deputy",
        widget=GovTextInput(),
        description="The colleague from your agency who will come in your place",
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(message=DEPUTY_NAME_MISSING) if required else Optional(),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )


class ConfirmAnswerForm(Form):
    """The one button behind a link in the email: the answer is the link's."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class ConfirmDeputyForm(Form):
    deputy_name = _deputy_name(required=True)
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class RecordAnswerForm(Form):
    """A coordinator types in an answer given by phone or in person."""

    response = GovRadioField(
        "Answer",
        choices=Response.choices(),
        validators=[InputRequired(message="Select the member's answer")],
    )
    deputy_name = _deputy_name(required=False)
    submit = SubmitField("Save the answer", widget=GovSubmitInput())
