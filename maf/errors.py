"""The one exception domain services raise when a rule refuses a change."""


class DomainError(Exception):
    """A rule refused the change. The message is written for the person who asked;
    `field` names the form field it belongs beside, where there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
