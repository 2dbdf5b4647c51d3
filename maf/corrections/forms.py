from wtforms import SubmitField, ValidationError
from wtforms.validators import Length

from maf.cases.forms import IntakeForm
from maf.forms import Form, GovSubmitInput, GovTextAreaField, VersionField


def _reason(label: str, required: str, description: str = ""):
    def not_blank(form, field):
        if not (field.data or "").strip():
            raise ValidationError(required)

    return GovTextAreaField(
        label,
        description=description,
        validators=[
            not_blank,
            Length(max=2000, message="The reason must be 2000 characters or fewer"),
        ],
    )


class CorrectionForm(Form):
    """The child's details as the intake asks for them: the intake form's own fields, with
    its checks (NHS number and UPN check digits, postcode shape, date of birth)."""

    given_name = IntakeForm.given_name
    family_name = IntakeForm.family_name
    other_names = IntakeForm.other_names
    date_of_birth = IntakeForm.date_of_birth
    gender = IntakeForm.gender
    address = IntakeForm.address
    postcode = IntakeForm.postcode
    school = IntakeForm.school
    school_name = IntakeForm.school_name
    upn = IntakeForm.upn
    nhs_number = IntakeForm.nhs_number
    validate_school_name = IntakeForm.validate_school_name
    validate_family_name = IntakeForm.validate_family_name
    validate_date_of_birth = IntakeForm.validate_date_of_birth

    reason = _reason(
        "Why are these details being corrected?",
        "Enter why the details are being corrected",
        "For example: the date of birth was typed wrongly at intake; the school confirmed it",
    )
    version = VersionField()
    submit = SubmitField("Save the corrections", widget=GovSubmitInput())


class UndoMergeForm(Form):
    reason = _reason("Why are these not the same child?", "Enter why these are not the same child")
    submit = SubmitField(
        "Separate the records",
        widget=GovSubmitInput(),
        render_kw={"params": {"classes": "govuk-button--warning"}},
    )
