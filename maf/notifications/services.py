"""Which optional emails a person wants, and changing that.

`wants(email, kind)` is asked by whatever queues an optional email (maf.notifications.catalogue)
before queueing it; mandatory kinds are always wanted.
"""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maf.audit import services as audit
from maf.auth.models import User
from maf.auth.services import normalise_email
from maf.errors import DomainError
from maf.extensions import db
from maf.notifications.catalogue import BY_KIND, SETTINGS
from maf.notifications.models import EmailPreference


def _active_user(email: str) -> User | None:
    return db.session.scalar(
        select(User).where(func.lower(User.email) == normalise_email(email), User.active)
    )


def choices_for(user: User | None) -> dict[str, str]:
    """Every setting's choice for this person: what they chose, or the default."""
    return choices_by_user([user])[user.id] if user is not None else _with_defaults({})


def choices_by_user(users: Iterable[User]) -> dict[int, dict[str, str]]:
    """choices_for each of these people, by user id, in one query however many."""
    chosen: dict[int, dict[str, str]] = {user.id: {} for user in users}
    if chosen:
        rows = db.session.execute(
            select(EmailPreference.user_id, EmailPreference.kind, EmailPreference.choice).where(
                EmailPreference.user_id.in_(chosen)
            )
        )
        for user_id, kind, choice in rows:
            chosen[user_id][kind] = choice
    return {user_id: _with_defaults(choices) for user_id, choices in chosen.items()}


def _with_defaults(chosen: dict[str, str]) -> dict[str, str]:
    """Each setting's stored choice, or its default where none (or one no longer offered)."""
    return {
        key: chosen[key] if chosen.get(key) in dict(setting.choices) else setting.default
        for key, setting in SETTINGS.items()
    }


def wants(email: str, kind: str) -> bool:
    """Whether the person with this address is to get this kind of email.

    True unless the active account with this address (case-insensitive) has turned the kind
    off; people without an account get the defaults. An unknown kind raises KeyError: every
    email is in the catalogue.
    """
    entry = BY_KIND[kind]
    if not entry.optional:
        return True
    return choices_for(_active_user(email))[entry.setting] == entry.sent_when


class PreferencesChanged(DomainError):
    """Another save (another tab, another device) changed a choice this form also changed.

    `saved`: for each such setting, the choice saved meanwhile."""

    def __init__(self, saved: dict[str, str]):
        self.saved = saved
        names = ", ".join(SETTINGS[key].question.lower() for key in saved)
        super().__init__(f"Changed in another window after you opened this page: {names}")


def save_choices(user: User, submitted: dict[str, str], shown: dict[str, str]) -> list[str]:
    """Store the choices this person changed on the form; returns the settings changed.

    `shown` is what the form showed when it was opened. Only the settings the person changed
    are written, so a save from another window meanwhile is kept; if that save changed one of
    the same settings differently, nothing is written and PreferencesChanged says which.
    """
    for key, value in submitted.items():
        if key not in SETTINGS or value not in dict(SETTINGS[key].choices):
            raise DomainError("Choose one of the options", field=key)
    current = choices_for(user)
    changed = {
        key: value
        for key, value in submitted.items()
        if value != shown.get(key) and value != current[key]
    }
    clashes = {key: current[key] for key in changed if current[key] != shown.get(key)}
    if clashes:
        raise PreferencesChanged(clashes)
    if not changed:
        return []
    stored = {
        preference.kind: preference
        for preference in db.session.scalars(
            select(EmailPreference).where(
                EmailPreference.user_id == user.id, EmailPreference.kind.in_(changed)
            )
        )
    }
    for key, value in changed.items():
        if key in stored:
            stored[key].choice = value
        else:
            db.session.add(EmailPreference(user_id=user.id, kind=key, choice=value))
    try:
        db.session.flush()
    except IntegrityError:  # another window's first choice of the same kind, at this moment
        db.session.rollback()
        current = choices_for(user)
        raise PreferencesChanged({key: current[key] for key in changed}) from None
    detail = "; ".join(f"{key}: {value}" for key, value in sorted(changed.items()))
    audit.record("email_preferences_changed", user, user=user, detail=detail)
    db.session.commit()
    return sorted(changed)
