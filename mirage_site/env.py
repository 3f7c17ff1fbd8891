"""Typed readers for environment settings: a bad value stops start-up with a clear message."""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from apps.core.rates import parse_rate

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} is outside the allowed range {minimum}..{maximum}.")
    return value


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if (
        value != value
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ImproperlyConfigured(f"{name}={value} is outside the allowed range {minimum}..{maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = os.environ.get(name, default).strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


def env_rate(name: str, default: str) -> str:
    """A throttle rate as apps.core.rates reads it: `N/period`, e.g. `120/min` or `20/hour`."""
    value = os.environ.get(name, default).strip()
    try:
        parse_rate(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={exc}") from None
    return value


def env_memory(name: str, default: str) -> str:
    """An amount of memory as PostgreSQL writes it (`64kB`, `512MB`, `4GB`), for settings passed to it."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[1-9][0-9]*(kB|MB|GB|TB)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not an amount of memory such as 512MB or 4GB.")
    return value


def read_secret_file(path: Path) -> str:
    """The first line of a secret file, or "" when there is none."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def env_secret(name: str, *, file_variable: str) -> str:
    """A secret given in `name`, or in the file `file_variable` names (which must then exist)."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    path = os.environ.get(file_variable, "").strip()
    if not path:
        return ""
    secret = read_secret_file(Path(path))
    if not secret:
        raise ImproperlyConfigured(f"{file_variable}={path!r} names no file, or an empty one.")
    return secret
