"""What an entry point (manage.py, the WSGI application, `serve`, the test run) does before Django
loads its settings: settings only read the environment, so folders, the development secret key and
the embedded database are prepared here."""

from __future__ import annotations

import os
import secrets

from mirage_site import database
from mirage_site.env import env_bool


def prepare() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")
    # The web server and worker never download weights: models come from the local cache or a folder,
    # and `manage.py models pull` is the one command that fetches them (it lifts this for itself).
    if env_bool("MIRAGE_HUB_OFFLINE", True):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    var = database.var_dir()
    (var / "static").mkdir(parents=True, exist_ok=True)
    production = os.environ.get("MIRAGE_ENV", "").strip() == "production"
    if not production and not (
        os.environ.get("MIRAGE_SECRET_KEY") or os.environ.get("MIRAGE_SECRET_KEY_FILE")
    ):
        _ensure_development_secret_key(var / "secret_key")
    database.prepare()


def _ensure_development_secret_key(path) -> None:
    """A local install gets a stable random key of its own, readable by its owner only."""
    if path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
