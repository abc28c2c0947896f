"""Settings, read from the environment.

Nothing set: SQLite, Celery eager, console email — the portal runs anywhere.
DATABASE_URL / REDIS_URL set: PostgreSQL and Redis, a real Celery worker and beat.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Debug only in the embedded mode (no DATABASE_URL) unless asked for: a production that forgets
# DJANGO_DEBUG still runs safe, and then refuses to start without a secret key.
# The embedded mode (`make run`: SQLite, no DATABASE_URL) is a demo on http://127.0.0.1, also
# with DJANGO_DEBUG=0; a production sets DATABASE_URL.
EMBEDDED = not os.environ.get("DATABASE_URL")
DEBUG = env_bool("DJANGO_DEBUG", default=EMBEDDED)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "dev-only-not-secret-" + "x" * 40
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    "axes",
    "csp",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "bootstrap",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "schools",
    "institutions",
    "assessments",
    "certificates",
    "oversight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Inside the CSRF middleware, so it still sees whether this response used the token.
    "portal.middleware.PrivateWhenCsrfTokenUsedMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.sessions.SessionRefreshMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.ErrorPageMiddleware",
    "portal.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database: SQLite unless DATABASE_URL names another -------------------------------
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A persistent connection the database dropped (restart, failover, idle kill) is noticed
        # at the start of the next request and re-opened, instead of one 500 per worker.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.sessions.PortalModelBackend",  # ModelBackend, loading the organisation with the user
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions expire after a working morning of inactivity and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(2 * 60 * 60)))
# Not written on every request: portal.sessions.SessionRefreshMiddleware re-saves a logged-in
# session once a quarter of its age has passed, which keeps idle expiry (90–120 minutes idle).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Secure cookies travel over HTTPS only: on in production, off in the embedded mode over plain http.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not (DEBUG or EMBEDDED))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy (nginx, the government gateway) that sets X-Forwarded-Proto.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Behind the proxy the portal is HTTPS only (its cookies are Secure): redirect and HSTS by default
# there (a request that came through the proxy over HTTPS is never redirected); not in the
# embedded mode on http://127.0.0.1. /healthz stays reachable over plain HTTP for the container check.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", default=BEHIND_PROXY and not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if BEHIND_PROXY and not DEBUG else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS preload lists the domain in browsers for good: that is the domain owner's decision, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp) on every response: scripts only from our own static files
# (no inline <script>, no on*= handlers: tests/portal/test_security.py scans the templates).
# Inline styles stay allowed: a few templates use style="" for widths and htmx adds its
# indicator <style>; style injection cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # Evidence is shown in the page in frames of our own inline view (institutions.views.evidence_view,
        # the only response that may be framed: frame-ancestors 'self', X-Frame-Options SAMEORIGIN).
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login lockout (django-axes): 5 failures for one username from one client address lock that
# username for that address only, for 30 minutes. Never by username alone: a stranger's failures
# from their own address must not lock the real user out (centre-admin included).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client address comes from django-ipware (portal/security.py). PORTAL_PROXY_COUNT (env
# AXES_PROXY_COUNT) is the number of trusted proxies in front of the portal: one nginx is 1, the
# default behind DJANGO_BEHIND_PROXY. Each appends the address it saw to X-Forwarded-For, so the
# client is the entry PORTAL_PROXY_COUNT places from the right: whatever a client writes into the
# header itself stays to the left and is ignored.
PORTAL_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "1" if BEHIND_PROXY else "0"))
AXES_CLIENT_IP_CALLABLE = "portal.security.client_ip"

# --- Internationalisation: Simplified Chinese first, English second --------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    # Uploaded evidence and imports are private: never served by URL, only through scoped views.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "private"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
IMPORT_MAX_BYTES = 20 * 1024 * 1024

# --- Celery: eager without a broker, Redis with one ------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic jobs; django-celery-beat copies these into its tables, where an administrator can adjust them.
CELERY_BEAT_SCHEDULE = {
    "calendar-coverage": {"task": "portal.tasks.check_calendar_coverage", "schedule": crontab(hour=8, minute=5)},
    "directory-expiry": {"task": "institutions.tasks.run_directory_expiry", "schedule": crontab(hour=0, minute=15)},
    # The outbox and the job sweep: what a broker outage or a killed worker left behind (portal/tasks.py).
    "send-pending-emails": {"task": "portal.tasks.send_pending_emails", "schedule": timedelta(minutes=1)},
    "sweep-jobs": {"task": "portal.tasks.sweep_jobs", "schedule": timedelta(minutes=1)},
    "receipt-render-sweep": {"task": "institutions.tasks.render_pending_receipts", "schedule": crontab(minute="*/10")},
    # Results due in 5 working days: reminders, then overdue marks (assessments/services/clock.py).
    "results-deadlines": {"task": "assessments.tasks.run_results_deadlines", "schedule": crontab(hour=7, minute=30)},
    # Coverage of majors (oversight/services/coverage.py): the materialised rows pages read, with their as-of time.
    "coverage-refresh": {"task": "oversight.tasks.refresh_coverage_daily", "schedule": crontab(hour=1, minute=40)},
    # Certificates, pass rates and the city overview (oversight/services/statistics.py), with their as-of time.
    "statistics-refresh": {"task": "oversight.tasks.refresh_statistics", "schedule": crontab(hour=2, minute=10)},
    # Public verification lookups queued in Redis, moved into the log table in bulk
    # (certificates/services/verification.py).
    "verification-log-flush": {"task": "certificates.tasks.flush_verification_log", "schedule": timedelta(seconds=10)},
}

# A separate Redis database for the cache keeps cache.clear() away from queued tasks.
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", REDIS_URL)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}
    )
}

# --- Email: console unless SMTP is configured ------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@skills.sh.invalid")

# --- Portal ----------------------------------------------------------------------------
PORTAL_NAME = _("上海市职业学校职业技能等级认定工作平台")
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-pass-2026")
# The next institution site sequence the Shanghai HR authority has allotted (6 digits): only a
# suggestion on the confirmation form; the centre enters or confirms the assigned one.
PORTAL_SITE_SEQUENCE_NEXT = os.environ.get("PORTAL_SITE_SEQUENCE_NEXT", "")
# Renewal (延续备案) is opened to the school this many days before its filing expires.
PORTAL_RENEWAL_WINDOW_DAYS = int(os.environ.get("PORTAL_RENEWAL_WINDOW_DAYS", "180"))
# Annex §4.1: an evaluation plan is filed with the centre at least this many working days before the batch.
PORTAL_PLAN_LEAD_WORKING_DAYS = int(os.environ.get("PORTAL_PLAN_LEAD_WORKING_DAYS", "5"))
# Annex §4.3: results are filed within this many working days after the batch's last day.
PORTAL_RESULTS_WORKING_DAYS = int(os.environ.get("PORTAL_RESULTS_WORKING_DAYS", "5"))
# Annex §4.4: certificates issued more than this many days ago and not reported to the centre are listed.
PORTAL_CERTIFICATE_REPORT_DAYS = int(os.environ.get("PORTAL_CERTIFICATE_REPORT_DAYS", "30"))
# The public due-date API (/api/v1/calendar/due-date): requests per client address (django-ratelimit).
PORTAL_API_RATE = os.environ.get("PORTAL_API_RATE", "60/m")
# Certificate PDFs are signed (PAdES) by the portal's issuing key: a PEM key and certificate, or a
# PKCS#12 file with its password. With none configured, a self-signed demo identity is created
# under VAR_DIR/signing/ where demo data is allowed (never in production; see README).
PORTAL_SIGNING_KEY = os.environ.get("PORTAL_SIGNING_KEY", "")
PORTAL_SIGNING_CERT = os.environ.get("PORTAL_SIGNING_CERT", "")
PORTAL_SIGNING_PKCS12 = os.environ.get("PORTAL_SIGNING_PKCS12", "")
PORTAL_SIGNING_PKCS12_PASSWORD = os.environ.get("PORTAL_SIGNING_PKCS12_PASSWORD", "")
# The address printed in certificates' QR codes (scheme and host, no trailing slash).
PORTAL_PUBLIC_URL = os.environ.get("PORTAL_PUBLIC_URL", "http://127.0.0.1:8000")
# Public certificate verification (/verify/, /api/v1/certificates/verify): lookups per client
# address (django-ratelimit, on the cache above), page, QR link, upload and API counted together.
PORTAL_VERIFY_RATE = os.environ.get("PORTAL_VERIFY_RATE", "60/m")
# With Redis: queue public lookups' log rows in Redis and write them in bulk every few seconds (beat
# "verification-log-flush") instead of one INSERT per lookup. Production sets 1 (bench/README.md).
PORTAL_VERIFY_LOG_BUFFER = os.environ.get("PORTAL_VERIFY_LOG_BUFFER", "0") == "1"
# The largest certificate PDF the verification page accepts (issued ones are under 300 KB).
PORTAL_VERIFY_UPLOAD_MAX_BYTES = int(os.environ.get("PORTAL_VERIFY_UPLOAD_MAX_BYTES", str(2 * 1024 * 1024)))
# The public complaint form (/oversight/complaints/new/): complaints sent per client address, and
# status lookups by number and contact (django-ratelimit, on the cache above).
PORTAL_COMPLAINT_RATE = os.environ.get("PORTAL_COMPLAINT_RATE", "20/h")
PORTAL_COMPLAINT_LOOKUP_RATE = os.environ.get("PORTAL_COMPLAINT_LOOKUP_RATE", "30/h")
# Notice 一(二): by the end of the 14th five-year plan, this share (%) of majors with
# graduating-year students is covered.
PORTAL_COVERAGE_TARGET = int(os.environ.get("PORTAL_COVERAGE_TARGET", "80"))
# The employers' JSON API (read-only, no login, no session) and its OpenAPI schema at /api/schema/.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "上海市职业技能等级证书查询接口 / Certificate verification API",
    "DESCRIPTION": "Read-only, no login, rate-limited per client address.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files, never a CDN (CSP: 'self' only).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# seed_demo creates logins with a published password: allowed in the embedded/debug setup only.
DEMO_DATA_ALLOWED = env_bool("PORTAL_ALLOW_DEMO", default=DEBUG or EMBEDDED)
GUARDIAN_RAISE_403 = False
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
