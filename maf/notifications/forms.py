from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired

from maf.forms import Form, GovRadioField, GovSubmitInput
from maf.notifications.catalogue import SETTINGS


class PreferencesForm(Form):
    """One set of radios per optional kind of email, each with the choice it showed when the
    page was opened (`shown_<setting>`), so a save changes only what this person changed."""

    submit = SubmitField("Save your choices", widget=GovSubmitInput())

    def submitted(self) -> dict[str, str]:
        return {key: self[key].data for key in SETTINGS}

    def shown(self) -> dict[str, str]:
        return {key: self[f"shown_{key}"].data for key in SETTINGS}

    def show(self, choices: dict[str, str]) -> None:
        for key, value in choices.items():
            self[f"shown_{key}"].data = value


for _key, _setting in SETTINGS.items():
    setattr(
        PreferencesForm,
        _key,
        GovRadioField(
            _setting.question,
            choices=list(_setting.choices),
            validators=[InputRequired(f"Choose whether you want {_setting.question.lower()}")],
        ),
    )
    setattr(PreferencesForm, f"shown_{_key}", HiddenField())
