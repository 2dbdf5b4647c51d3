from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from maf.directory.models import AgencyTier, AgencyType
from maf.forms import (
    Form,
    GovCheckboxesField,
    GovRadioField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
    VersionField,
)


class DistrictForm(Form):
    name = StringField(
        "District name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the district's name"), Length(max=120)],
    )
    once = OnceField()
    version = VersionField()
    submit = SubmitField("Save district", widget=GovSubmitInput())


class AgencyForm(Form):
    name = StringField(
        "Agency name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the agency's name"), Length(max=200)],
    )
    type = GovSelectField(
        "Type of agency",
        choices=[("", "Select the type of agency"), *AgencyType.choices()],
        validators=[InputRequired(message="Select the type of agency")],
    )
    tier = GovRadioField(
        "Tier",
        choices=AgencyTier.choices(),
        validators=[InputRequired(message="Select the agency's tier")],
    )
    districts = GovCheckboxesField("Districts it works in", coerce=int)
    email_domains = GovTextAreaField(
        "Email domains",
        validators=[Length(max=4000)],
    )
    once = OnceField()
    version = VersionField()
    submit = SubmitField("Save agency", widget=GovSubmitInput())


class ConfirmForm(Form):
    """A confirm page's one button (retire, reinstate, merge)."""

    version = VersionField()
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class MergeChoiceForm(Form):
    keep = GovSelectField(
        "Agency to keep",
        validators=[InputRequired(message="Select the agency to keep")],
    )
    submit = SubmitField("See what moves", widget=GovSubmitInput())


class MergeConfirmForm(Form):
    version = VersionField()
    submit = SubmitField("Merge agencies", widget=GovSubmitInput())
