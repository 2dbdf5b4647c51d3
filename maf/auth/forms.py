from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from maf.forms import Form, GovSubmitInput, OnceField


def _email() -> StringField:
    return StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
        ],
    )


class SignInForm(Form):
    email = _email()
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(max=1000, message="Password must be 1000 characters or fewer"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(Form):
    code = StringField(
        "Code",
        widget=GovTextInput(),
        description="The 6-digit code from your authenticator app, or one of your recovery codes",
        validators=[
            InputRequired(message="Enter the code from your authenticator app"),
            Length(max=20, message="Enter the 6-digit code, or a recovery code like 1a2b3c-4d5e6f"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


def _password(label: str, **params) -> PasswordField:
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=f"Enter {label[0].lower()}{label[1:]}".rstrip(".")),
            Length(max=1000, message="Password must be 1000 characters or fewer"),
        ],
        **params,
    )


class NewPasswordForm(Form):
    new_password = _password(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
    )
    confirm_password = _password("Confirm the new password")
    submit = SubmitField("Save the new password", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current_password = _password("Current password")


class ForgottenPasswordForm(Form):
    email = _email()
    once = OnceField()
    submit = SubmitField("Send me a link", widget=GovSubmitInput())
