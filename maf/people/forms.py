from wtforms import SubmitField
from wtforms.validators import InputRequired, Length

from maf.forms import (
    Form,
    GovCheckboxesField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
    VersionField,
)


class AccessForm(Form):
    """What a person may do and where: one versioned form (maf.versioning)."""

    # Choices are set per request: a role's label uses the service's local words.
    roles = GovCheckboxesField("Roles")
    districts = GovCheckboxesField("Districts", coerce=int)
    agency = GovSelectField("Agency", coerce=int)
    version = VersionField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ConfirmForm(Form):
    """A button that changes the person's account; the page around it says what it does."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class ResetTwoStepForm(Form):
    reason = GovTextAreaField(
        "Why are you resetting their two-step sign-in?",
        validators=[
            InputRequired(message="Enter why you are resetting their two-step sign-in"),
            Length(max=400, message="Reason must be 400 characters or fewer"),
        ],
    )
    once = OnceField()
    submit = SubmitField("Reset two-step sign-in", widget=GovSubmitInput())
