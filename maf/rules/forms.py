from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import Length, Optional

from maf.forms import Form, GovDateField, GovSubmitInput, GovTextAreaField, VersionField
from maf.rules.services import REASON_MAX


class RuleForm(Form):
    """One local rule's new value. The value is checked by the rule itself
    (maf.rules.services.Rule.parse), whose refusal is shown beside it."""

    value = StringField("New value", widget=GovTextInput())
    effective_from = GovDateField("Date it takes effect (optional)", validators=[Optional()])
    reason = GovTextAreaField(
        "Why it is changing (optional)",
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer"),
        ],
    )
    # A retention change is saved only once the admin has seen what it would archive and
    # destroy: the value they confirmed, sent back with the save.
    confirmed = HiddenField()
    version = VersionField()
    submit = SubmitField("Save rule", widget=GovSubmitInput())
