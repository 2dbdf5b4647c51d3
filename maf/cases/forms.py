from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovTextInput,
)
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from maf.cases.models import (
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Domain,
    Gender,
    MatchVerdict,
    SettingType,
    SharingGround,
    TierOutcome,
)
from maf.cases.validation import (
    check_date_of_birth,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
)
from maf.dbtypes import london_today
from maf.forms import (
    Form,
    GovCheckboxesField,
    GovDateField,
    GovRadioField,
    GovSelectField,
    GovSubmitInput,
    GovTextAreaField,
    OnceField,
    VersionField,
)
from maf.rules.words import Worded, followed_by


def _text(label, max_length=200, required=None, **kwargs):
    validators = [InputRequired(message=required)] if required else [Optional()]
    validators.append(
        Length(
            max=max_length, message=followed_by(label, f" must be {max_length} characters or fewer")
        )
    )
    return StringField(label, widget=GovTextInput(), validators=validators, **kwargs)


def _long_text(label, max_length=5000, **kwargs):
    return GovTextAreaField(
        label,
        validators=[
            Length(
                max=max_length,
                message=followed_by(label, f" must be {max_length} characters or fewer"),
            )
        ],
        **kwargs,
    )


def _normalised(normalise):
    """A validator that replaces the field's data with its normalised form."""

    def validate(form, field):
        if field.data:
            try:
                field.data = normalise(field.data)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    return validate


# The school select's two choices that are not a listed school.
SCHOOL_NOT_KNOWN = "0"
SCHOOL_NOT_LISTED = "not-listed"
# The blank first option of a select that must be chosen.
NOTHING_CHOSEN = ""


def _id_or_none(value):
    """A select of records: None for its blank first option, -1 (no record's id, so no
    choice) for anything else that is not an id."""
    if value in (None, NOTHING_CHOSEN):
        return None
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else -1


def _not_in_future(form, field):
    if field.data and field.data > london_today():  # England's date, not UTC's
        raise ValidationError(f"{field.label.text} must be today or in the past")


class SafeguardingForm(Form):
    concern = GovRadioField(
        "Is there a concern that the child is suffering, or is likely to suffer, significant harm?",
        choices=[("yes", "Yes"), ("no", "No")],
        validators=[InputRequired(message="Select yes if there is a child protection concern")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class IntakeForm(Form):
    # The child
    given_name = _text("Given name", 100)
    family_name = _text("Family name", 100)
    other_names = _text(
        "Other or previous names",
        300,
        description="Separate names with commas. For example, a surname before a change",
    )
    date_of_birth = GovDateField(
        "Date of birth",
        description="For example, 27 3 2015",
        validators=[InputRequired(message="Enter the child's date of birth")],
    )
    gender = GovRadioField(
        "Gender",
        choices=Gender.choices(),
        validators=[InputRequired(message="Select the child's gender")],
    )
    address = _long_text("Address", 300, description="Without the postcode")
    postcode = StringField(
        "Postcode",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=10, message="Postcode must be 10 characters or fewer"),
            _normalised(normalise_postcode),
        ],
    )
    # The district's schools, with "Not known" first (nothing is known unless someone says)
    # and "Not listed", which reads the typed name below it.
    school = GovSelectField("School or setting", choices=[], default=SCHOOL_NOT_KNOWN)
    # Not Optional(): that would end validation of an empty box before validate_school_name.
    school_name = StringField(
        "Name of school or setting",
        widget=GovTextInput(),
        validators=[
            Length(max=200, message="Name of school or setting must be 200 characters or fewer")
        ],
    )
    upn = StringField(
        "Unique pupil number (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=20, message="Unique pupil number must be 13 characters"),
            _normalised(normalise_upn),
        ],
    )
    nhs_number = StringField(
        "NHS number (optional)",
        widget=GovTextInput(),
        description="10 digits, for example 485 777 3456",
        validators=[
            Optional(),
            Length(max=20, message="NHS number must be 10 digits"),
            _normalised(normalise_nhs_number),
        ],
    )

    # The referral
    district = GovSelectField("District", coerce=int)
    referrer_name = _text(
        Worded("Name of the practitioner who completed the {w.assessment_short}"),
        200,
        required=Worded(
            "Enter the name of the practitioner who completed the {w.assessment_short}"
        ),
    )
    referrer_email = StringField(
        "Their email address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the practitioner's email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(
                message="Enter an email address in the correct format, like name@example.org",
                check_deliverability=False,
            ),
        ],
    )
    # No agency and no source is chosen until the coordinator chooses one: a preselected
    # first option would be saved as if they had.
    referrer_agency = GovSelectField(
        "Their agency",
        coerce=_id_or_none,
        validators=[InputRequired(message="Select the referring agency")],
    )
    setting_type = GovSelectField(
        Worded("Where the {w.assessment_short} came from"),
        choices=[
            ("", Worded("Select where the {w.assessment_short} came from")),
            *SettingType.choices(),
        ],
        validators=[
            InputRequired(message=Worded("Select where the {w.assessment_short} came from"))
        ],
    )
    assessment_completed_on = GovDateField(
        "Date the assessment was completed",
        validators=[
            InputRequired(message="Enter the date the assessment was completed"),
            _not_in_future,
        ],
    )

    # Needs, strengths and views
    needs_development = GovCheckboxesField("Development of the child or young person", coerce=int)
    needs_parents_and_carers = GovCheckboxesField("Parents and carers", coerce=int)
    needs_family_and_environment = GovCheckboxesField("Family and environment", coerce=int)
    strengths = _long_text("Strengths")
    child_views = _long_text("The child or young person's views")
    family_views = _long_text("The family's views")

    # Consent
    consent_given_by = GovRadioField(
        "Who gave consent to undertake and record the assessment?",
        choices=ConsentGiver.choices(),
        validators=[InputRequired(message="Select who gave consent")],
    )
    consent_given_by_name = _text(
        "Their name", 200, required="Enter the name of the person who gave consent"
    )
    consent_given_on = GovDateField(
        "Date consent was given",
        validators=[InputRequired(message="Enter the date consent was given"), _not_in_future],
    )
    consent_method = GovRadioField(
        "How was consent given?",
        choices=ConsentMethod.choices(),
        validators=[InputRequired(message="Select how consent was given")],
    )
    share_consent = GovRadioField(
        "Consent to share the assessment",
        choices=[("given", "Given"), ("refused", "Refused"), ("not_asked", "Not asked yet")],
        validators=[InputRequired(message="Select whether consent to share was given")],
    )
    share_with_forum = BooleanField(
        Worded("Members of the district {w.forum}"), widget=GovCheckboxInput()
    )
    share_agencies = GovCheckboxesField("Named agencies", coerce=int)

    once = OnceField()
    submit = SubmitField("Save and run the checks", widget=GovSubmitInput())

    NEED_FIELDS = ("needs_development", "needs_parents_and_carers", "needs_family_and_environment")

    def validate_school_name(self, field):
        if self.school.data == SCHOOL_NOT_LISTED and not (field.data or "").strip():
            raise ValidationError("Enter the name of the school or setting, as it is not listed")

    def validate_family_name(self, field):
        if not (field.data or "").strip() and not (self.given_name.data or "").strip():
            raise ValidationError("Enter the child's name: a given name, a family name or both")

    def validate_date_of_birth(self, field):
        if field.data:
            try:
                check_date_of_birth(field.data, london_today())
            except ValueError as error:
                raise ValidationError(str(error)) from None

    def validate_assessment_completed_on(self, field):
        if field.data and self.date_of_birth.data and field.data < self.date_of_birth.data:
            raise ValidationError(
                "Date the assessment was completed must be after the date of birth"
            )

    def validate_share_with_forum(self, field):
        if self.share_consent.data == "given" and not field.data and not self.share_agencies.data:
            raise ValidationError("Select who the family agreed the assessment can be shared with")


class ConsentForm(Form):
    kind = GovRadioField(
        "Consent to",
        choices=ConsentKind.choices(),
        validators=[InputRequired(message="Select what the consent is for")],
    )
    given = GovRadioField(
        "Was consent given or refused?",
        choices=[("given", "Given"), ("refused", "Refused")],
        validators=[InputRequired(message="Select whether consent was given or refused")],
    )
    given_by = GovRadioField(
        "Who gave or refused it?",
        choices=ConsentGiver.choices(),
        validators=[InputRequired(message="Select who gave or refused consent")],
    )
    given_by_name = _text("Their name", 200, required="Enter the name of the person")
    given_on = GovDateField(
        "Date", validators=[InputRequired(message="Enter the date"), _not_in_future]
    )
    method = GovRadioField(
        "How?",
        choices=ConsentMethod.choices(),
        validators=[InputRequired(message="Select how consent was given or refused")],
    )
    covers_forum = BooleanField(
        Worded("Members of the district {w.forum}"), widget=GovCheckboxInput()
    )
    agencies = GovCheckboxesField("Named agencies", coerce=int)
    once = OnceField()
    submit = SubmitField("Save consent", widget=GovSubmitInput())

    def validate_covers_forum(self, field):
        sharing = self.kind.data == ConsentKind.SHARE and self.given.data == "given"
        if sharing and not field.data and not self.agencies.data:
            raise ValidationError("Select who the assessment can be shared with")


class WithdrawConsentForm(Form):
    withdrawn_on = GovDateField(
        "Date consent was withdrawn",
        validators=[InputRequired(message="Enter the date consent was withdrawn"), _not_in_future],
    )
    note = _long_text(
        "Note", 1000, description="Who withdrew it and anything the forum should know"
    )
    version = VersionField()
    submit = SubmitField(
        "Record withdrawal",
        widget=GovSubmitInput(),
        render_kw={"params": {"classes": "govuk-button--warning"}},
    )


class SharingWithoutConsentForm(Form):
    decided_by_name = _text("Who decided to share", 200, required="Enter who decided to share")
    decided_on = GovDateField(
        "Date of the decision",
        validators=[InputRequired(message="Enter the date of the decision"), _not_in_future],
    )
    ground = GovRadioField(
        "Ground for sharing without consent",
        choices=SharingGround.choices(),
        validators=[InputRequired(message="Select the ground for sharing without consent")],
    )
    shared_with = _text("Shared with", 500, required="Enter who the information was shared with")
    reason = _long_text("Why", 5000)
    once = OnceField()
    submit = SubmitField("Record the decision", widget=GovSubmitInput())

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError("Enter why the information is being shared without consent")


class VerdictForm(Form):
    verdict = GovRadioField(
        "Is this the same child?",
        choices=MatchVerdict.choices(),
        validators=[InputRequired(message="Select same child or different child")],
    )
    version = VersionField()  # the case's


class TierOutcomeForm(Form):
    outcome = GovRadioField(
        "Outcome of the tier 3/4 check",
        choices=TierOutcome.choices(),
        validators=[InputRequired(message="Select the outcome of the tier 3/4 check")],
    )
    reason = _long_text(
        "Reason",
        2000,
        description=Worded(
            "Needed unless no involvement was found: why the forum should coordinate, "
            "which service, or why the {w.assessment_short} is withdrawn"
        ),
    )
    version = VersionField()
    submit = SubmitField("Save the outcome", widget=GovSubmitInput())


class WithdrawCaseForm(Form):
    reason = _long_text(Worded("Why is the {w.assessment_short} being withdrawn?"), 2000)
    version = VersionField()
    submit = SubmitField(Worded("Withdraw the {w.assessment_short}"), widget=GovSubmitInput())


class NeedStatementForm(Form):
    domain = GovRadioField(
        "Domain", choices=Domain.choices(), validators=[InputRequired(message="Select the domain")]
    )
    element = _text(
        "Element", 120, required="Enter the element, for example Behavioural development"
    )
    text = _text("Need statement", 300, required="Enter the need statement")
    once = OnceField()
    submit = SubmitField("Add need statement", widget=GovSubmitInput())


class InvolvementImportForm(Form):
    file = FileField(
        "CSV file from the statutory service",
        widget=GovFileInput(),
        description=(
            "Columns: given_name, family_name, date_of_birth, postcode, service, status, contact"
        ),
        validators=[FileRequired(message="Select a CSV file")],
    )
    all_or_nothing = BooleanField(
        "Import nothing if any row has a problem", widget=GovCheckboxInput()
    )
    once = OnceField()
    submit = SubmitField("Import", widget=GovSubmitInput())
