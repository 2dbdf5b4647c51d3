from wtforms import SubmitField
from wtforms.validators import Length, ValidationError

from maf.forms import Form, GovSubmitInput, GovTextAreaField

# The audit log keeps the reason, and its entries hold 500 characters with their prefix.
REASON_LENGTH = 450


def _said(form, field) -> None:
    if not (field.data or "").strip():
        raise ValidationError(
            "Enter why you are making this export, for example who asked and when"
        )


class SubjectAccessForm(Form):
    reason = GovTextAreaField(
        "Why are you making this export?",
        description=(
            "For example: subject access request received 2 December from the child's mother. "
            "This is kept in the audit log with your name and the time."
        ),
        validators=[
            _said,
            Length(
                max=REASON_LENGTH,
                message=f"The reason must be {REASON_LENGTH} characters or fewer",
            ),
        ],
    )
    submit = SubmitField("Download the export (zip)", widget=GovSubmitInput())
