"""Settings for the quality-campaign portal, read from the environment.

With nothing set the portal runs on its embedded default: DEBUG on, an SQLite file beside
manage.py, Celery tasks executed in-process. Production sets DJANGO_DEBUG=0 with
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL (see README).
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import env_bool, env_broker_url, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)
# Django's technical 404 and 500 pages (URL patterns, tracebacks) instead of the portal's own:
# for a developer at work, never for the demo or the people using the portal.
DEBUG_ERROR_PAGES = DEBUG and env_bool("DJANGO_DEBUG_ERROR_PAGES", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0.")
    SECRET_KEY = "insecure-development-key-only-for-the-embedded-default"
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long in production.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the portal's host names when DJANGO_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal",
    "enterprises",
    "experts",
    "campaigns",
    "portal.shell",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal.security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.security.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.security.sessions.SessionLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.security.twofactor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.PortalErrorPagesMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.shell.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.shell.navigation.navigation",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL JIT-compiles a query whose estimated cost passes jit_above_cost before running it;
    # for expert matching over thousands of candidates that took longer than the query itself
    # (see `manage.py benchmark_cases --explain`). The portal's queries gain nothing from it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    # The embedded default has several writers at once (requests, and the thread that drains the
    # outbox after a commit). A transaction takes SQLite's write lock when it begins, so a reader
    # never has to upgrade to a writer half-way (which fails at once with "database is locked"),
    # waits for the lock up to `timeout` seconds, and the write-ahead log lets pages be read
    # while a write goes on.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=30, init_command="PRAGMA journal_mode=WAL;")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account or address is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Password policy (README "Security"): length, character classes, no reuse of the last few, and an
# optional maximum age for staff accounts (0 = passwords of staff do not expire).
PASSWORD_MIN_LENGTH = env_int("PORTAL_PASSWORD_MIN_LENGTH", 10)
PASSWORD_MIN_CLASSES = env_int("PORTAL_PASSWORD_MIN_CLASSES", 3)
PASSWORD_HISTORY = env_int("PORTAL_PASSWORD_HISTORY", 5)
PASSWORD_MAX_AGE_DAYS = env_int("PORTAL_PASSWORD_MAX_AGE_DAYS", 0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "portal.security.passwords.MinimumLengthValidator"},
    {"NAME": "portal.security.passwords.CharacterClassesValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "portal.security.passwords.PasswordHistoryValidator"},
]

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failures for one account, or
# AXES_ADDRESS_FAILURE_LIMIT from one address (a bureau's offices often share one), sign-in is
# refused for the cool-off time after the last failure, on the sign-in page, Django admin and the API.
AXES_FAILURE_LIMIT = env_int("PORTAL_LOCKOUT_FAILURES", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("PORTAL_LOCKOUT_ADDRESS_FAILURES", 30)
AXES_HANDLER = "portal.security.lockout.PortalLockoutHandler"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are security events (portal.security.events)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PORTAL_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False  # see portal.security.lockout.PortalLockoutHandler.user_logged_in
AXES_LOCKOUT_CALLABLE = "portal.security.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The client address is REMOTE_ADDR unless the portal sits behind this many trusted proxies, so a
# forged X-Forwarded-For cannot dodge the per-address lockout.
AXES_IPWARE_PROXY_COUNT = env_int("PORTAL_TRUSTED_PROXIES", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Sessions end when the browser closes, after SESSION_IDLE_MINUTES without a request and at the
# latest SESSION_COOKIE_AGE after signing in, whatever the activity.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_SECONDS = env_int("PORTAL_SESSION_IDLE_MINUTES", 30) * 60
SESSION_COOKIE_AGE = env_int("PORTAL_SESSION_MAX_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Two-factor sign-in (TOTP, django-otp): required for administrators, offered to all staff.
TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS = env_bool("PORTAL_2FA_REQUIRED_FOR_ADMINISTRATORS", True)
TWO_FACTOR_ISSUER = env_str("PORTAL_2FA_ISSUER", "质量帮扶平台")
TWO_FACTOR_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = TWO_FACTOR_ISSUER

# API tokens for integrations: days until a new token expires.
API_TOKEN_DAYS = env_int("PORTAL_API_TOKEN_DAYS", 90)
# HTTP basic authentication on the API is for development scripts only.
API_BASIC_AUTH = env_bool("PORTAL_API_BASIC_AUTH", DEBUG)
# Requests per user (or per address without a sign-in) to the API; None switches a limit off.
API_THROTTLE_RATES = {
    "user": env_str("PORTAL_API_RATE_USER", "120/minute"),
    "anon": env_str("PORTAL_API_RATE_ANON", "30/minute"),
}
# JSON request bodies: deeper nesting or more bytes are answered 400 before parsing.
API_JSON_MAX_DEPTH = env_int("PORTAL_API_JSON_MAX_DEPTH", 20)
API_JSON_MAX_BYTES = env_int("PORTAL_API_JSON_MAX_BYTES", 1024 * 1024)

# Content-Security-Policy: scripts and styles from the portal itself; the few inline scripts carry
# the per-response nonce. Nothing is loaded from elsewhere (no CDN).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), interest-cohort=()"
)

# Simplified Chinese is the portal's language; English is offered in the language switcher.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: printed on the console unless EMAIL_HOST names an SMTP server (README "Notifications").
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on; choose one.")
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", env_str("DJANGO_DEFAULT_FROM_EMAIL", "portal@localhost"))
# Where the portal is reached from outside, for the links in emails.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# The channels a notification leaves the portal by (portal/notifications/channels.py).
NOTIFICATION_CHANNELS = env_list("PORTAL_NOTIFICATION_CHANNELS", ["portal.notifications.channels.EmailChannel"])

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # 403 and 404 answers are the access rules working, not errors worth a traceback.
        "django.request": {"level": "ERROR"},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.security.tokens.TokenAuthentication",
        "portal.security.tokens.BasicAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "portal.security.jsonlimits.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.security.throttling.UserRateThrottle",
        "portal.security.throttling.AnonRateThrottle",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "portal.security.schema.PortalAutoSchema",
}

SPECTACULAR_SETTINGS = {
    # Lazy: the schema (and the docs page reading it) speaks the reader's language.
    "TITLE": _("Quality-campaign portal API"),
    "DESCRIPTION": _("Enterprises, quality needs, experts, assistance cases, campaigns and KPIs."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two lists have a field named "kind": each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {"NotificationKindEnum": "portal.notifications.kinds.KIND_CHOICES",
                            "SurveyKindEnum": "enterprises.models.NeedsSurvey.Kind"},
    # The API is for the portal's own users: its description is not published to the world.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.security.schema.blank_email_hook",
    ],
}

# Celery: with no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_broker_url("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task's hard time limit is at most TASK_TIME_LIMIT_MAX (the import's; the others are
# shorter), and the Redis visibility timeout is a minute more: a message held by a worker that died
# is handed to another once its first run can no longer be going on, and not an hour later. Work
# kept in rows comes back sooner: the outbox is drained by every worker's listener, and the sweeper
# re-enqueues an import whose worker stopped making progress (IMPORT_STALE_SECONDS).
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 270
TASK_TIME_LIMIT_MAX = 600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TASK_TIME_LIMIT_MAX + 60}
IMPORT_STALE_SECONDS = env_int("PORTAL_IMPORT_STALE_SECONDS", 90)
# Rows of an import checked between two progress saves, and written per transaction (the
# registry sorts each batch by name: a larger one writes its indexes' pages more in order).
IMPORT_BATCH_SIZE = env_int("PORTAL_IMPORT_BATCH_SIZE", 10_000)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Lets the home page of administrators say whether a worker is alive.
    "worker-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": crontab(minute="*")},
    # The outbox, in case a worker's listener missed a commit (the listeners drain within a second).
    "outbox-drain": {"task": "portal.tasks.outbox_drain", "schedule": 60.0},
    # Imports whose worker died or whose message was lost: re-enqueued, they resume from their job row.
    "import-jobs-sweep": {"task": "enterprises.tasks.import_jobs_sweep", "schedule": 60.0},
    # The same for a campaign's case and survey imports run in the background.
    "records-imports-sweep": {"task": "campaigns.tasks.records_imports_sweep", "schedule": 60.0},
    # Idempotency keys are remembered for a day.
    "idempotency-keys-forget": {"task": "portal.tasks.idempotency_keys_forget", "schedule": crontab(minute=17)},
    # A full count of running (and just ended) campaigns' KPIs: it puts right, counts and logs any
    # figure the updates got wrong, and writes only the rows that change.
    "kpi-refresh-all": {"task": "campaigns.tasks.kpi_refresh_all", "schedule": crontab(minute="*/15")},
    # Notifications' emails that the outbox's wake-up missed, and retries after a transient failure.
    "notifications-deliver": {"task": "portal.tasks.notifications_deliver", "schedule": 60.0},
    # Lead regulators' follow-ups due tomorrow or overdue, cases without a visit, rating reminders.
    "notifications-reminders": {"task": "campaigns.tasks.reminders_send", "schedule": crontab(hour=7, minute=30)},
    # The daily digest, after the reminders so it carries them.
    "notifications-digest": {"task": "portal.tasks.notifications_digest", "schedule": crontab(hour=8, minute=0)},
    # Targets behind their pro-rata pace past mid-campaign, to the campaign's regulators, on Mondays.
    "notifications-kpi-pace": {"task": "campaigns.tasks.kpi_pace_check",
                               "schedule": crontab(day_of_week="mon", hour=7, minute=45)},
}
# On the embedded default (no worker), the outbox is drained after the commit in a background
# thread of the web process; the test settings drain inline instead, so a test sees the result.
OUTBOX_DRAIN_INLINE = False
