"""The search form: each box checked as the intake checks it, so a malformed NHS number or an
impossible date gets its message beside the box and what was typed stays in it."""

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from maf.cases.forms import _normalised
from maf.cases.validation import normalise_nhs_number, normalise_postcode, normalise_upn
from maf.dbtypes import london_today
from maf.forms import Form, GovDateField, GovSubmitInput
from maf.search.services import SearchCriteria


def _box(label, max_length, *checks, **kwargs):
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"),
            *checks,
        ],
        **kwargs,
    )


def _case_number(text: str) -> str:
    digits = text.strip()
    if digits[:1] in ("#",):
        digits = digits[1:]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9 or int(digits) == 0:
        raise ValueError("Case number must be a number, like 1024")
    return str(int(digits))


class SearchForm(Form):
    name = _box(
        "Name",
        200,
        description="Given and family name, as spelt on a record or as you heard it",
    )
    date_of_birth = GovDateField("Date of birth", description="For example, 27 3 2015")
    case_number = _box("Case number", 12, _normalised(_case_number))
    nhs_number = _box(
        "NHS number",
        20,
        _normalised(normalise_nhs_number),
        description="10 digits, for example 485 777 3456",
    )
    upn = _box("Unique pupil number (UPN)", 20, _normalised(normalise_upn))
    postcode = _box("Postcode", 10, _normalised(normalise_postcode))
    submit = SubmitField("Search", widget=GovSubmitInput())

    def validate_date_of_birth(self, field):
        if field.data and field.data > london_today():
            raise ValidationError("Date of birth must be today or in the past")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.criteria().kinds():
            self.name.errors = [
                *self.name.errors,
                "Enter a name, a date of birth, a case number, an NHS number, a UPN or a postcode",
            ]
            return False
        return True

    def criteria(self) -> SearchCriteria:
        return SearchCriteria(
            name=" ".join((self.name.data or "").split()),
            date_of_birth=self.date_of_birth.data,
            case_number=int(self.case_number.data) if self.case_number.data else None,
            nhs_number=self.nhs_number.data or "",
            upn=self.upn.data or "",
            postcode=self.postcode.data or "",
        )
