"""Errors a user can cause, and the one JSON shape the API answers them in.

Services and selectors raise `UserError` (or a subclass) with a message meant for the user and an
HTTP status; pages show the message, the API answers `error_body(...)` with the status.
"""

from __future__ import annotations

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
