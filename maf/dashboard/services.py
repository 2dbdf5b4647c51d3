from dataclasses import dataclass

from maf.auth.models import Role, User


@dataclass(frozen=True)
class Panel:
    """One section of a dashboard. Until its feature exists, `empty_text` says what will appear."""

    title: str
    empty_text: str
    rows: tuple = ()


_PANELS = {
    Role.COORDINATOR: (
        Panel(
            "CAFs waiting for checks",
            "When a practitioner sends you a completed CAF it will appear here, so you can check "
            "for an existing CAF and for tier 3/4 involvement before giving it a forum slot.",
        ),
        Panel(
            "Next forum meetings",
            "Your districts' forum meetings will appear here with their agendas, so you can see "
            "which still need cases and which are ready to circulate.",
        ),
    ),
    Role.CHAIR: (
        Panel(
            "Meetings you chair",
            "Meetings of the forums you chair will appear here with their agendas, and minutes "
            "waiting for your approval.",
        ),
    ),
    Role.PRACTITIONER: (
        Panel(
            "Your cases",
            "CAFs you referred and cases where you are the lead professional will appear here, "
            "with their next review dates.",
        ),
        Panel(
            "Your actions",
            "Actions agreed for you at forum meetings will appear here with their due dates.",
        ),
        Panel(
            "Agendas and minutes",
            "Agendas and minutes of the forums you belong to will appear here once they are "
            "circulated.",
        ),
    ),
    Role.ADMIN: (
        Panel(
            "Forum set-up",
            "Forums, their members and meeting patterns will appear here once they are set up.",
        ),
    ),
}

_ROLE_ORDER = (Role.COORDINATOR, Role.CHAIR, Role.PRACTITIONER, Role.ADMIN)


def panels_for(user: User) -> list[tuple[Role, tuple[Panel, ...]]]:
    """The dashboard sections for every role the user holds, most day-to-day work first."""
    return [(role, _PANELS[role]) for role in _ROLE_ORDER if user.has_role(role)]
