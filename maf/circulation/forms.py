from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from maf.forms import Form, GovSubmitInput, OnceField


class SecureDomainForm(Form):
    domain = StringField(
        "Email domain",
        description="For example nhs.net. Its subdomains are included: gov.uk covers leics.gov.uk.",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter an email domain, like nhs.net"), Length(max=253)],
    )
    once = OnceField()
    submit = SubmitField("Add the domain", widget=GovSubmitInput())
