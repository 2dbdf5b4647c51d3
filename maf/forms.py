"""Form fields shared by every area, rendered with the GOV.UK Design System macros."""

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
)
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, TextAreaField


class GovDateField(DateField):
    """Day, month and year boxes, with the GOV.UK wording for what is wrong."""

    widget = GovDateInput()

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


class GovCheckboxesField(SelectMultipleField):
    widget = GovCheckboxesInput()


class GovTextAreaField(TextAreaField):
    widget = GovTextArea()
