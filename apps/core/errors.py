"""Errors a user can cause, a full disk, and the one JSON shape the API answers errors in.

Services and selectors raise `UserError` (or a subclass) with a message meant for the user and an
HTTP status; pages show the message, the API answers `error_body(...)` with the status.
"""

from __future__ import annotations

import errno

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


class UserError(ValueError):
    """`field` names the form field the message concerns, when there is one."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def error_body(
    status: int, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None
) -> dict:
    """The API's error envelope: {"error": {"code", "message", "fields"}}; built here and nowhere else."""
    return {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}


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
