"""Work a page does once, however many of its templates ask for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once_per_request(request, name: str, compute: Callable[[], T]) -> T:
    """`compute()`, done once per request and kept on it under `name`; done every time when there is
    no request (a template rendered outside one)."""
    if request is None:
        return compute()
    kept = request.__dict__.setdefault("_once_per_request", {})
    if name not in kept:
        kept[name] = compute()
    return kept[name]
