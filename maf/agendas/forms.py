from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import HiddenField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional

from maf.agendas.models import ItemKind
from maf.forms import Form, OnceField


class AddItemForm(Form):
    case_id = HiddenField(validators=[InputRequired()])
    kind = HiddenField(validators=[InputRequired()])
    once = OnceField()
    presenter_name = StringField(
        "Presenter", widget=GovTextInput(), validators=[Optional(), Length(max=200)]
    )
    presenter_email = StringField(
        "Presenter's email",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=254),
            Email(
                message="Enter an email address like name@example.org", check_deliverability=False
            ),
        ],
    )

    def validate_kind(self, field):
        if field.data not in {kind.value for kind in ItemKind}:
            field.errors.append("Choose how to add the case")


class OnceForm(Form):
    """A builder form that adds to the agenda with one press: "Fill with what is due", and
    "Add selected to the agenda" (whose ticks and kinds are read by the view, one pair of
    fields per listed case)."""

    once = OnceField()
