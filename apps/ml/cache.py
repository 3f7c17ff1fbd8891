"""One model per spec per process: loaded on first use, kept, shared by every thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from apps.ml.specs import ModelUnavailable

T = TypeVar("T")


class ModelCache(Generic[T]):
    """Loads through `load(spec)`; any failure becomes ModelUnavailable and is not remembered, so a
    model pulled after a failed attempt loads on the next call."""

    def __init__(self, load: Callable[[str], T]) -> None:
        self._load = load
        self._models: dict[str, T] = {}
        # One lock for all specs: two requests arriving together must not load a large model twice.
        self._lock = threading.Lock()

    def get(self, spec: str) -> T:
        with self._lock:
            if spec not in self._models:
                try:
                    self._models[spec] = self._load(spec)
                except ModelUnavailable:
                    raise
                except Exception as exc:
                    raise ModelUnavailable(spec, f"{spec} could not be loaded: {exc}") from exc
            return self._models[spec]

    def loaded(self) -> list[str]:
        """The specs this process holds a model for."""
        with self._lock:
            return list(self._models)
