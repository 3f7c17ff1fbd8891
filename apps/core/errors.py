"""The one base class for errors a user can cause and must fix.

Services and selectors raise a subclass with a message meant for the user and an HTTP status;
pages show the message, the API answers {"error": {"code", "message", "fields"}} with the status.
"""

from __future__ import annotations


class UserError(ValueError):
    """`field` names the form field the message concerns, when there is one."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
