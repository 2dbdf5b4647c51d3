from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import Email, Length, Optional

from maf.agendas.models import ItemKind
from maf.forms import Form, OnceField


class OnceForm(Form):
    """A builder form that adds to the agenda with one press: "Fill with what is due", and
    "Add selected to the agenda" (whose ticks and kinds are read by the view, one pair of
    fields per listed case)."""

    once = OnceField()


@dataclass
class Selection:
    """The cases ticked on the builder: each one's kind chosen in its row, a new case's
    presenter as typed, the errors in what was typed (by field id) and why any case could not
    be added (by case id). Kept whole on a page that could not add all of it, so nothing the
    coordinator ticked or typed is lost."""

    kinds: dict[int, ItemKind] = field(default_factory=dict)
    presenters: dict[int, tuple[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


class PresenterForm(Form):
    """A new case's presenter, typed in its row of the ready cases (cleaned and checked as
    every MAF form's fields are). The row's fields are read into it, so it has no CSRF token
    of its own: the builder's form has one."""

    class Meta(Form.Meta):
        csrf = False

    name = StringField(
        "Presenter",
        validators=[
            Optional(),
            Length(max=200, message="Presenter must be 200 characters or fewer"),
        ],
    )
    email = StringField(
        "Presenter's email",
        validators=[
            Optional(),
            Length(max=254, message="Presenter's email must be 254 characters or fewer"),
            Email(
                message="Enter the presenter's email address like name@example.org",
                check_deliverability=False,
            ),
        ],
    )


def selection_from(form_data) -> Selection:
    """Read "Add selected to the agenda": the ticked `case` ids, each one's `kind-<id>` (a
    ready case's row sends new_case; anything unreadable is taken as a review, the rows'
    default) and a ready case's `presenter-<id>` and `presenter-email-<id>`."""
    selection = Selection()
    kinds = {kind.value: kind for kind in ItemKind}
    for value in form_data.getlist("case"):
        if not (value.isascii() and value.isdigit() and len(value) < 10):
            continue
        case_id = int(value)
        selection.kinds[case_id] = kinds.get(form_data.get(f"kind-{value}", ""), ItemKind.REVIEW)
        if selection.kinds[case_id] != ItemKind.NEW_CASE:
            continue
        presenter = PresenterForm(
            formdata=MultiDict(
                {
                    "name": form_data.get(f"presenter-{value}", ""),
                    "email": form_data.get(f"presenter-email-{value}", ""),
                }
            )
        )
        presenter.validate()
        selection.presenters[case_id] = (
            (presenter.name.data or "").strip(),
            (presenter.email.data or "").strip(),
        )
        for typed, field_id in (
            (presenter.name, "presenter"),
            (presenter.email, "presenter-email"),
        ):
            if typed.errors:
                selection.errors[f"{field_id}-{value}"] = typed.errors[0]
    return selection
