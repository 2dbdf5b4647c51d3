from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovTextInput
from wtforms import BooleanField, FieldList, FormField, HiddenField, StringField
from wtforms.validators import Email, Optional, ValidationError

from maf.forms import (
    Form,
    GovDateField,
    GovRadioField,
    GovSelectField,
    GovTextAreaField,
    OnceField,
    VersionField,
)
from maf.outcomes.models import ClosureReason, LeadKind, Outcome
from maf.rules.words import Worded, words

# More rows than a forum ever agrees for one child; a crafted request cannot ask for more.
MAX_ROWS = 40


class MaxLength:
    """Like WTForms' Length(max=...), but the message names the field, so it reads on its own
    in the error summary: "Discussion must be 10,000 characters or fewer"."""

    def __init__(self, maximum: int):
        self.maximum = maximum
        self.field_flags = {"maxlength": maximum}

    def __call__(self, form, field):
        if field.data and len(field.data) > self.maximum:
            raise ValidationError(
                f"{field.label.text} must be {self.maximum:,} characters or fewer"
            )


def optional_id(value) -> int:
    """An agency picker's value: an id, or 0 for its blank "None" choice."""
    return int(value) if str(value).strip() else 0


def _email(label: str) -> Email:
    return Email(
        message=Worded(f"Enter {label} as an email address, like name@example.org"),
        check_deliverability=False,
    )


class _Row(Form):
    """One row of a list that can grow ("add another"). Its fields are labelled with the row's
    number ("Action 2: what"), so every message and every label says which row it is about."""

    noun = ""

    class Meta:
        csrf = False  # the whole form carries the token

    @property
    def number(self) -> int:
        # FieldList names its rows "actions-0", "actions-1", ...; people count from 1.
        return int(self._prefix.rstrip("-").rsplit("-", 1)[1]) + 1

    def process(self, *args, **kwargs):
        # Before the values are read, so a date's own messages ("... must be a real date")
        # carry the numbered label too.
        for field in self:
            field.label.text = f"{self.noun} {self.number}: {field.label.text}"
        self.remove.label.text = f"Remove {self.noun.lower()} {self.number}"
        super().process(*args, **kwargs)

    def is_blank(self) -> bool:
        """Nothing chosen or typed (a half-typed date counts as typed): the row is left out."""

        def typed(field) -> bool:
            if isinstance(field, GovSelectField):
                return bool(field.data)
            raw = [value for value in field.raw_data or [] if isinstance(value, str)]
            return bool(field.data) or any(value.strip() for value in raw)

        return not any(
            typed(field) for name, field in self._fields.items() if name not in ("id", "remove")
        )

    def is_kept(self) -> bool:
        return not self.remove.data and not self.is_blank()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.remove.data:  # whatever is wrong with a row being removed does not matter
            for field in self:
                field.errors = []
            return True
        return valid


class ServiceRow(_Row):
    noun = "Service"
    # A check box rather than a Remove button: a second submit button before Save would be
    # the one pressing Enter in a box submits, so Enter would remove a row.
    remove = BooleanField("Remove", widget=GovCheckboxInput())
    agency = GovSelectField("agency", coerce=optional_id)
    what = StringField(
        "what the agency will do",
        widget=GovTextInput(),
        validators=[Optional(), MaxLength(500)],
    )

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.is_kept():
            return valid
        if not self.agency.data and not self.agency.errors:
            self.agency.errors = [f"Select the agency for service {self.number}"]
            valid = False
        if not (self.what.data or "").strip() and not self.what.errors:
            self.what.errors = [f"Enter what the agency will do for service {self.number}"]
            valid = False
        return valid


class ActionRow(_Row):
    noun = "Action"
    remove = BooleanField("Remove", widget=GovCheckboxInput())
    # The action's id once saved: a save updates that action rather than replacing it, so
    # whoever is following it up keeps the same action.
    id = HiddenField()
    what = StringField("what", widget=GovTextInput(), validators=[Optional(), MaxLength(500)])
    owner = StringField("owner", widget=GovTextInput(), validators=[Optional(), MaxLength(200)])
    email = StringField(
        "owner's email",
        widget=GovTextInput(),
        validators=[Optional(), MaxLength(254), _email("the owner's email")],
    )
    agency = GovSelectField("owner's agency", coerce=optional_id)
    due = GovDateField("due", validators=[Optional()])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.is_kept():
            return valid
        for field, message in (
            (self.what, f"Enter what action {self.number} is"),
            (self.owner, f"Enter who will do action {self.number}"),
            (self.due, f"Enter when action {self.number} is due"),
        ):
            if not field.data and not field.errors:
                field.errors = [message]
                valid = False
        return valid

    @property
    def action_id(self) -> int | None:
        text = self.id.data or ""
        # str.isdigit accepts "²" and 5,000 digits, which int() refuses: neither is an id.
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class ItemRecordForm(Form):
    """One agenda item's record. Fields are declared in the order the page shows them, so
    the error summary lists errors in that order too."""

    version = VersionField()
    discussion = GovTextAreaField("Discussion", validators=[MaxLength(10_000)])
    services = FieldList(FormField(ServiceRow), min_entries=1, max_entries=MAX_ROWS)
    actions = FieldList(FormField(ActionRow), min_entries=1, max_entries=MAX_ROWS)
    lead_kind = GovRadioField(
        Worded("The {w.lead_professional} is"), choices=LeadKind.choices(), validators=[Optional()]
    )
    lead_name = StringField(
        Worded("{w.lead_professional_cap}'s name"),
        widget=GovTextInput(),
        validators=[Optional(), MaxLength(200)],
    )
    lead_email = StringField(
        Worded("{w.lead_professional_cap}'s email"),
        widget=GovTextInput(),
        validators=[Optional(), MaxLength(254), _email("the {w.lead_professional}'s email")],
    )
    lead_agency = GovSelectField(Worded("{w.lead_professional_cap}'s agency"), coerce=optional_id)
    lead_agreed = BooleanField(
        Worded("They agreed to be {w.lead_professional}"), widget=GovCheckboxInput()
    )
    outcome = GovRadioField("Outcome", choices=Outcome.choices(), validators=[Optional()])
    next_review_on = GovDateField("Next review", validators=[Optional()])
    sign_off_next = BooleanField(
        "Propose closing it at that review: add it to that agenda as a sign-off",
        widget=GovCheckboxInput(),
    )
    closure_reason = GovSelectField(
        Worded("Why the {w.assessment_short} is closing"),
        choices=[("", "Not closing")] + ClosureReason.choices(),
        validators=[Optional()],
    )
    outcome_notes = GovTextAreaField("Notes on the outcome", validators=[MaxLength(5_000)])

    def set_agencies(self, agency_choices) -> None:
        """Every agency picker offers the same agencies; called again after adding a row."""
        self.lead_agency.choices = agency_choices
        for row in [*self.services, *self.actions]:
            row.form.agency.choices = agency_choices

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # Here rather than validate_lead_name: Optional() ends that field's checks when empty.
        if self.lead_kind.data and not (self.lead_name.data or "").strip():
            missing = f"Enter the {words().lead_professional}'s name"
            self.lead_name.errors = [*self.lead_name.errors, missing]
            valid = False
        return valid

    def filled_services(self) -> list[ServiceRow]:
        return [row.form for row in self.services if row.form.is_kept()]

    def filled_actions(self) -> list[ActionRow]:
        return [row.form for row in self.actions if row.form.is_kept()]

    def field_named(self, name: str):
        """The field a service's refusal names ("outcome", "actions-1-due"), or None."""
        for field in self:
            if field.name == name:
                return field
            if isinstance(field, FieldList):
                for row in field:
                    for sub in row.form:
                        if sub.name == name:
                            return sub
        return None

    def error_list(self) -> list[dict]:
        """Every error, in page order, each linking to the input it is about (a date to its
        day box, radios to their first button) for the GOV.UK error summary."""
        found = []
        for field in self:
            subfields = (
                [sub for row in field for sub in row.form]
                if isinstance(field, FieldList)
                else [field]
            )
            for sub in subfields:
                if sub.errors:
                    target = f"{sub.id}-day" if isinstance(sub, GovDateField) else sub.id
                    found.append({"text": sub.errors[0], "href": f"#{target}"})
        return found


class AttendanceForm(Form):
    version = VersionField()
    guests = GovTextAreaField(
        "Guests",
        description="One a line: name, then a comma and their agency (if they have one)",
        validators=[MaxLength(3000)],
    )


class CorrectionForm(Form):
    once = OnceField()
    note = GovTextAreaField(
        "What needs correcting?",
        description="Recorded with the new version, so readers know what changed",
        validators=[MaxLength(2000)],
    )


class MinutesWordingForm(Form):
    """The wording of one part of one item as the draft minutes read it."""

    version = VersionField()
    text = GovTextAreaField("Wording in the minutes", validators=[MaxLength(10000)])
