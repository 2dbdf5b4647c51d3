from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional

from maf.auth.forms import NewPasswordForm
from maf.forms import (
    Form,
    GovCheckboxesField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
)


def _name(message: str) -> StringField:
    return StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message=message),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
    )


def _email(message: str) -> StringField:
    return StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message=message),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )


class InviteForm(Form):
    name = _name("Enter the person's full name")
    email = _email("Enter the person's email address")
    roles = GovCheckboxesField(
        "Roles", validators=[InputRequired(message="Select at least one role")]
    )
    districts = GovCheckboxesField("Districts", coerce=int, validators=[Optional()])
    agency = GovSelectField("Agency", coerce=int)
    once = OnceField()
    submit = SubmitField("Send the invitation", widget=GovSubmitInput())


class AcceptForm(NewPasswordForm):
    submit = SubmitField("Create my account", widget=GovSubmitInput())


class RequestAccountForm(Form):
    name = _name("Enter your full name")
    email = _email("Enter your work email address")
    organisation = StringField(
        "Your organisation and team",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your organisation and team"),
            Length(max=200, message="Organisation must be 200 characters or fewer"),
        ],
    )
    once = OnceField()
    submit = SubmitField("Ask for an account", widget=GovSubmitInput())


class RefuseForm(Form):
    reason = GovTextAreaField(
        "Why is the request refused?",
        description="This is emailed to the person who asked.",
        validators=[
            InputRequired(message="Enter the reason, to tell the person"),
            Length(max=2000, message="Reason must be 2000 characters or fewer"),
        ],
    )
    submit = SubmitField("Refuse the request", widget=GovSubmitInput())
