"""Settings for Chuangwen (创文). One module, driven by environment variables.

The defaults run the embedded demo: SQLite in WAL mode and a local media folder. Production sets
DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL (PostgreSQL).
"""

import json
import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")
    SECRET_KEY = "insecure-demo-key-only-for-the-embedded-demo"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "chuangwen.apps.AxesConfig",  # axes, its admin section named in Chinese
    "django_tasks",
    "chuangwen.apps.TasksConfig",  # django_tasks_db, likewise
    "ninja",
    "org",
    "workdays",
    "cases",
    "appeals",
    "indicators",
    "materials",
    "inspections",
    "volunteers",
    "streets",
    "notices",
    "assessment",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chuangwen.middleware.ContentSecurityPolicy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "chuangwen.middleware.RefuseControlCharacters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # In production the app server serves collected static files itself; runserver does in DEBUG.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "chuangwen.urls"
WSGI_APPLICATION = "chuangwen.wsgi.application"
ASGI_APPLICATION = "chuangwen.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "chuangwen" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chuangwen.nav.navigation",
                "notices.context.unread",
            ],
        },
    },
]

# Databases: SQLite (WAL) by default, anything dj-database-url understands from DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{os.environ.get('SQLITE_PATH', BASE_DIR / 'var' / 'chuangwen.sqlite3')}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
# Read replicas serve dashboards through org.db when DATABASE_REPLICA_URL is set.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["org.db.ReplicaRouter"]
# PostgreSQL through Django's own backend with a health check that sends no statement
# (org/postgresql/base.py).
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database["ENGINE"] = "org.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        # Shared by every process (rate limits, login throttling), so not a per-process memory cache.
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.db.DatabaseCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "chuangwen_cache"),
    }
}

# Appeals' rate-limit counters in Redis (INCR + EXPIRE in one pipeline) instead of the database's
# RateCounter table, e.g. redis://127.0.0.1:6379/1 (appeals/limits.py).
RATE_LIMIT_REDIS_URL = os.environ.get("RATE_LIMIT_REDIS_URL", "")

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0")) or None

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# Leaflet's files come from the XStatic-Leaflet package, served under leaflet/ (leaflet/leaflet.js,
# leaflet/leaflet.css), so maps need neither a CDN nor an npm step.
STATICFILES_DIRS = [BASE_DIR / "chuangwen" / "static", ("leaflet", xstatic.pkg.leaflet.BASE_DIR)]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Storage through Django's storage API: an S3-compatible store is configured by naming its
# backend and options (e.g. storages.backends.s3.S3Storage with its bucket settings).
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(os.environ.get("DJANGO_STORAGE_OPTIONS", "{}")),
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
UPLOAD_MAX_IMAGE_BYTES = int(os.environ.get("UPLOAD_MAX_IMAGE_BYTES", str(10 * 1024 * 1024)))
# All the photos of one step together (cases.photos: at most 9 photos per step).
UPLOAD_MAX_STEP_BYTES = int(os.environ.get("UPLOAD_MAX_STEP_BYTES", str(30 * 1024 * 1024)))

# Background work through Django's tasks API (django-tasks backport), stored in the database.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Map tiles: any XYZ template. Coordinates are stored in WGS-84 and converted to GCJ-02 in the
# browser when MAP_TILE_CRS is "gcj02" (AMap, Tencent). Without tiles the map still draws points.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
MAP_TILE_CRS = os.environ.get("MAP_TILE_CRS", "wgs84")
MAP_CENTER = (31.8587, 106.7478)  # 巴州区 (Bazhou district), lat/lng

# Security: strict in production, convenient for the demo.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "chuangwen.errors.csrf_failure"
if os.environ.get("PROXY_COUNT"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only in production (docs/reliability.md): plain-HTTP requests are redirected and browsers
# told to use HTTPS for a year, subdomains included. Behind a TLS-terminating proxy set PROXY_COUNT
# (so X-Forwarded-Proto is trusted); the demo (DEBUG) has neither.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload the domain is a deliberate, hard-to-undo step for the district's
    # domain owner (DJANGO_HSTS_PRELOAD=1), not a default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Content-Security-Policy (chuangwen.middleware.ContentSecurityPolicy): scripts and styles only
# from this site; the map tiles' origin is added to img-src from MAP_TILE_URL.
CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# The API's interactive docs (/api/v1/docs) and OpenAPI schema (/api/v1/openapi.json): public in
# the demo, off in production unless DJANGO_API_DOCS=1.
API_DOCS = env_bool("DJANGO_API_DOCS", DEBUG)

NINJA_PAGINATION_PER_PAGE = 50
# Bounds of ?limit= and ?offset= on the API's lists: beyond them a 422, not a database overflow.
NINJA_PAGINATION_MAX_LIMIT = 10_000
NINJA_PAGINATION_MAX_OFFSET = 1_000_000
NINJA_PAGINATION_CLASS = "org.pagination.BoundedLimitOffsetPagination"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Problem cases (cases app): dispatch and verification limits in working days, the longest
# extension a unit may ask for, and the distance within which an open case of the same category
# is suggested as a duplicate.
CASE_DISPATCH_WORKING_DAYS = int(os.environ.get("CASE_DISPATCH_WORKING_DAYS", "1"))
CASE_VERIFY_WORKING_DAYS = int(os.environ.get("CASE_VERIFY_WORKING_DAYS", "2"))
CASE_MAX_EXTENSION_DAYS = int(os.environ.get("CASE_MAX_EXTENSION_DAYS", "10"))
CASE_MAX_EXTENSION_HOURS = int(os.environ.get("CASE_MAX_EXTENSION_HOURS", "72"))
CASE_DUPLICATE_METERS = float(os.environ.get("CASE_DUPLICATE_METERS", "50"))
# Field verification 现场核查: the sources whose cases are always checked on site by the grid's
# collector (comma-separated, e.g. "appeal,inspection"; categories choose with their own flag), and
# the distance from the case's point beyond which a field check is flagged (not refused).
CASE_FIELD_VERIFICATION_SOURCES = tuple(
    s for s in os.environ.get("CASE_FIELD_VERIFICATION_SOURCES", "").split(",") if s.strip()
)
CASE_FIELD_CHECK_FAR_METERS = float(os.environ.get("CASE_FIELD_CHECK_FAR_METERS", "200"))
# The current month's summary and metrics are served from a snapshot at most this old (seconds).
CASES_FIGURES_MAX_AGE = int(os.environ.get("CASES_FIGURES_MAX_AGE", "60"))
# The map endpoint's cluster answers (per scope, filters, zoom and grid cells), in seconds.
CASES_MAP_MAX_AGE = int(os.environ.get("CASES_MAP_MAX_AGE", "60"))

# Joint enforcement days 集中联合执法 (streets): the units that may be summoned (the "5+3" forces,
# comma-separated unit codes; empty: every active district department) and the distance from the
# action's place beyond which a sign-in is flagged (not refused).
STREETS_JOINT_FORCES = tuple(c for c in os.environ.get("STREETS_JOINT_FORCES", "").split(",") if c.strip())
STREETS_JOINT_FAR_METERS = float(os.environ.get("STREETS_JOINT_FAR_METERS", "500"))
# Public street signs 街巷长联系牌: the district's number every "call" button dials (the teams'
# own numbers are shown masked; a team's extension follows after a pause), and the public address
# printed in the signs' QR codes (empty: the address the print page was opened at).
STREETS_SIGN_CALL_NUMBER = os.environ.get("STREETS_SIGN_CALL_NUMBER", "12319")
STREETS_SIGN_BASE_URL = os.environ.get("STREETS_SIGN_BASE_URL", "")

# Task warnings of the index system (测评体系任务预警), in working days before the deadline:
# yellow when at most INDICATORS_YELLOW_WORKDAYS remain (or the task is behind its monthly
# milestone), red when at most INDICATORS_RED_WORKDAYS remain or the deadline has passed.
INDICATORS_WARNINGS = {
    "yellow_workdays": int(os.environ.get("INDICATORS_YELLOW_WORKDAYS", "5")),
    "red_workdays": int(os.environ.get("INDICATORS_RED_WORKDAYS", "1")),
}

# Notices (notices app, docs/notices.md): the periodic jobs, how often the worker ticks, retries
# and escalation, the address links in messages start with, and the SMS backend. Webhooks are only
# posted to the vendors' hosts; e-mail goes through Django's EMAIL_BACKEND.
NOTICES_SCHEDULE = "chuangwen.schedule.JOBS"
NOTICES_TICK_SECONDS = int(os.environ.get("NOTICES_TICK_SECONDS", "30"))
NOTICES_MAX_ATTEMPTS = int(os.environ.get("NOTICES_MAX_ATTEMPTS", "5"))
NOTICES_RETRY_SECONDS = int(os.environ.get("NOTICES_RETRY_SECONDS", "60"))
NOTICES_HTTP_TIMEOUT = float(os.environ.get("NOTICES_HTTP_TIMEOUT", "5"))
NOTICES_ESCALATE_WORKDAYS = int(os.environ.get("NOTICES_ESCALATE_WORKDAYS", "2"))
NOTICES_BATCH_THRESHOLD = int(os.environ.get("NOTICES_BATCH_THRESHOLD", "3"))
NOTICES_SITE_URL = os.environ.get("NOTICES_SITE_URL", "")
NOTICES_SMS_BACKEND = os.environ.get("NOTICES_SMS_BACKEND", "notices.sms.ConsoleBackend")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chuangwen@localhost")

# PDF documents (org.pdf): a TrueType/TrueType-collection file with Chinese glyphs to embed; empty:
# Debian's fonts-wqy-microhei/zenhei when installed, else reportlab's non-embedded STSong-Light.
PDF_CJK_FONT = os.environ.get("PDF_CJK_FONT", "")
