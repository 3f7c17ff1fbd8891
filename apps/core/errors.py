"""The one base class for errors a user can cause and must fix, and the one for a full disk.

Services and selectors raise a subclass of UserError with a message meant for the user and an HTTP
status; pages show the message, the API answers {"error": {"code", "message", "fields"}} with the status.
"""

from __future__ import annotations

import errno


class UserError(ValueError):
    """`field` names the form field the message concerns, when there is one."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class StorageFull(OSError):
    """The disk that holds media (or temporary files) is full: nothing the user did, nothing was kept.

    An OSError with errno ENOSPC, so code that only knows about OSError still sees what it is; pages and
    the API answer it with 507 (mirage_site/unavailable.py), jobs and commands fail with its message.
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            errno.ENOSPC,
            f"The server's disk is full, so {what}. Nothing half-written was kept; "
            "an administrator must free space, then try again.",
        )

    def __str__(self) -> str:
        return self.strerror
