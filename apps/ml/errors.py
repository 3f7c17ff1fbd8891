"""The error every model loader raises."""

from __future__ import annotations


class ModelUnavailable(Exception):
    """A configured model cannot be loaded; the message is meant for the user as is."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(message)
        self.spec = spec
