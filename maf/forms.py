"""Form fields shared by every area, rendered with the GOV.UK Design System macros."""

import re
from datetime import date, time

from flask_wtf import FlaskForm
from govuk_frontend_wtf import wtforms_widgets
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from maf.submissions import TOKEN_PATTERN, new_form_token

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Every line break str.splitlines() knows that the control characters above leave in.
_LINE_BREAK = re.compile(r"\s*[\r\n\x85\u2028\u2029]\s*")


def _without_control_characters(value):
    """Pasted text can carry NULs and other control characters that PostgreSQL, XML
    (.docx, .ics) and email cannot hold; tabs and line breaks are kept."""
    return _CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def _on_one_line(value):
    """A one-line box cannot hold a line break, but a crafted request or a pasted U+2028 can
    send one. Names and venues go into email headers, which refuse a value that spans lines
    (so every email about the forum would fail), and into one-line cells: fold it to a space."""
    return _LINE_BREAK.sub(" ", value) if isinstance(value, str) else value


def _with_line_feeds(value):
    """Browsers send a text area's line breaks as CRLF (HTML's form submission rules); kept
    so, each would be two line breaks in a Word document."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class Form(FlaskForm):
    """Every MAF form: CSRF from Flask-WTF, and typed text cleaned of control characters, on
    one line in a one-line box and with plain line feeds in a text area."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, TextAreaField):
                cleaners = [_without_control_characters, _with_line_feeds]
            elif issubclass(field_class, PasswordField):  # its line breaks are left alone
                cleaners = [_without_control_characters]
            elif issubclass(field_class, StringField):
                cleaners = [_without_control_characters, _on_one_line]
            else:
                cleaners = []
            options["filters"] = [*cleaners, *options.get("filters", ())]
            return unbound_field.bind(form=form, **options)


def attach_error(form, error, default_field: str) -> None:
    """Show a service's refusal beside the field it concerns (and so in the error summary)."""
    field = getattr(form, error.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, str(error)]


class VersionField(HiddenField):
    """The version of the record the form was opened at (maf.versioning): a save from a page
    older than the stored record is refused instead of overwriting someone else's change."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        # Anything unreadable counts as "not known", which require_version treats as stale:
        # digits other than 0-9 ("²" is a digit to str.isdigit) and a run longer than any
        # version (Python refuses to read 4,300 or more) too.
        readable = text.isascii() and text.isdigit() and len(text) <= 18
        self.data = int(text) if readable else None

    def _value(self):
        return "" if self.data is None else str(self.data)


def show_newer_version(form, error) -> None:
    """After a stale save: the form keeps what was typed but now carries the stored version,
    so saving again, deliberately, goes through."""
    form.version.data = error.current_version
    form.version.raw_data = [str(error.current_version)]


class GovSubmitInput(wtforms_widgets.GovSubmitInput):
    """GOV.UK's submit button, with its prevent-double-click on: a second click within a
    second of the first is ignored, so a double click sends the form once. (A slower retry
    is caught on the server by the form's OnceField.)"""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params.setdefault("preventDoubleClick", True)
        return params


class _HiddenInputWithoutId(HiddenInput):
    def __call__(self, field, **kwargs):
        kwargs["id"] = False
        return super().__call__(field, **kwargs)


class OnceField(HiddenField):
    """The one-time token of a form that creates something (maf.submissions): made when the
    page is drawn, kept when the form comes back with errors, so a double click, a retry or
    two tabs sending the same page create one thing.

    A post without a readable token (not from a page MAF drew) gets a fresh one: it is saved
    once, like any single post."""

    # Without an id: a page can hold several such forms (add a member, add the year's
    # meetings), and ids must be unique.
    widget = _HiddenInputWithoutId()

    def __init__(self, label="", validators=None, **kwargs):
        super().__init__(label, validators, default=new_form_token, **kwargs)

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = text if TOKEN_PATTERN.fullmatch(text) else new_form_token()

    def renew(self) -> None:
        """For a form shown again after it saved (not redirected): its next use is new."""
        self.data = new_form_token()


class _DateBoxes(GovDateInput):
    """govuk-frontend-wtf puts a required date's `required` on the div around the three boxes,
    where HTML does not allow it (the Nu HTML checker's error): it goes on each box instead."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        if params["attributes"].pop("required", None):
            for box in params["items"]:
                box["attributes"] = {**box.get("attributes", {}), "required": "required"}
        return params


class GovDateField(DateField):
    """Day, month and year boxes, with the GOV.UK wording for what is wrong."""

    widget = _DateBoxes()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist):
        parts = [part.strip() for part in (valuelist or [])][:3]
        parts += [""] * (3 - len(parts))
        # Kept for redisplay, so what was typed is never lost.
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        missing = [
            name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part
        ]
        if missing:
            self.data = None
            raise ValueError(f"{self.label.text} must include a {' and '.join(missing)}")
        try:
            day, month, year = (int(part) for part in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date") from None


class GovRadioField(RadioField):
    widget = GovRadioInput()


class GovSelectField(SelectField):
    widget = GovSelect()

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            # WTForms says "Not a valid choice."; say which choice is missing, in the words
            # the field already uses when nothing is chosen, else made from its label.
            required = [v.message for v in self.validators if isinstance(v, InputRequired)]
            raise ValidationError(
                required[0]
                if required and required[0]
                else f"Select the {self.label.text[0].lower()}{self.label.text[1:]}"
            ) from None


class GovCheckboxesField(SelectMultipleField):
    widget = GovCheckboxesInput()


class GovTextAreaField(TextAreaField):
    widget = GovTextArea()


class GovTimeField(StringField):
    """A time typed as 24-hour hours and minutes; the Design System has no time input."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        match = re.fullmatch(r"(\d{1,2})[:.]?(\d{2})", text)
        if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"{self.label.text} must be a time like 09:30 or 14:00")
        self.data = time(int(match.group(1)), int(match.group(2)))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""


class GovIntegerField(IntegerField):
    widget = GovTextInput()
