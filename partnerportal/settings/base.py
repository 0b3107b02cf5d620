"""Settings shared by every environment. Configuration comes from the environment (SPEC 11)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "partnerportal.core",
    "tiers",
    "deals",
    "accreditations",
    "commissions",
    "escalations",
    # The project package last: the composition root (home page, commands spanning apps).
    "partnerportal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "partnerportal.core.middleware.RequestIdMiddleware",
    "partnerportal.core.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "partnerportal.core.middleware.StaffMfaRequiredMiddleware",
    "partnerportal.core.middleware.DomainErrorMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnerportal.urls"
WSGI_APPLICATION = "partnerportal.wsgi.application"
ASGI_APPLICATION = "partnerportal.asgi.application"

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
                "partnerportal.context_processors.portal",
            ],
        },
    },
]

# PostgreSQL is the only database: constraints, locks and date ranges rely on it.
# Connections per process model (docs/decisions.md, "Database connections"): by default one
# connection per request, closed at its end (CONN_MAX_AGE 0), which is right for any server
# that starts a thread per request (runserver): a persistent connection would outlive its
# thread and PostgreSQL would run out of connections. Production (gunicorn sync workers, one
# request at a time per process) keeps one persistent connection per worker
# (settings/production.py). DATABASE_CONN_MAX_AGE overrides either.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/partnerportal"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # Django's Redis cache keeping its clients (core/cache.py: half of a cache read).
        "BACKEND": "partnerportal.core.cache.PortalRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "partnerportal",
    }
}

# Sessions: read from the cache (Redis, the "default" alias) and written through to the
# database, so a signed-in page reads its session without a query; the database stays the
# record (a cache flush only costs one read per session). Signing out deletes both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: refuses every sign-in attempt of a locked-out account or
    # address, whichever sign-in path calls authenticate().
    "axes.backends.AxesStandaloneBackend",
    # Django's and allauth's backends, reading the signed-in user from the cache while
    # nothing changed (core.auth).
    "partnerportal.core.auth.ModelBackend",
    "partnerportal.core.auth.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: e-mail sign-in; accounts are created by partner ops or a partner admin.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "partnerportal.core.adapters.PortalAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Partner Portal"
# Staff roles handle other people's money and deals: they must enrol a second factor
# before they can use the portal's pages (API tokens are issued by an operator).
PORTAL_STAFF_MFA_REQUIRED = env_bool("PORTAL_STAFF_MFA_REQUIRED", True)

# django-axes: every sign-in path (allauth's form; the Django admin's login is sent to it,
# partnerportal/urls.py) is paused for 15 minutes after 5 failed passwords for one account
# (from whatever addresses) or from one address (on whatever accounts: password spraying);
# unknown e-mail addresses are counted alike, so a lockout tells nothing about who has an
# account. allauth's own limits (10 failures a minute per address, 5 per account in 5
# minutes) stay on as well.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "partnerportal.core.lockout.attempted_email"
AXES_LOCKOUT_CALLABLE = "partnerportal.core.lockout.lockout_response"
AXES_ENABLE_ADMIN = True
# Client addresses (axes, API throttling of anonymous callers): REMOTE_ADDR, unless
# PORTAL_PROXY_COUNT says how many reverse proxies in front append to X-Forwarded-For (the
# same rule as DRF's NUM_PROXIES, core.lockout.client_address).
PORTAL_PROXY_COUNT = int(os.environ.get("PORTAL_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "partnerportal.core.lockout.client_address"

# Content-Security-Policy (django-csp): everything from the portal itself, nothing inline
# (no inline script, no style attribute, no <style>); images may also be data: URIs (the
# authenticator QR code allauth draws). The browser tests fail on any violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Request bodies: at most 2 MB (the largest legitimate one, a quote with its lines, is a few
# KB; a text over its column's length is a 400 naming the field, below this bound).
# `RequestBodyLimitMiddleware` answers 413 for any larger body before it is read (Django
# refuses only larger form bodies; DRF reads JSON from the stream, bypassing its check).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "partners@portal.example")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # A browser session counts only once it passed the staff second factor.
        "partnerportal.core.api.authentication.MfaSessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "partnerportal.core.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per signed-in user (a token is a user) and per address for anonymous callers (the POI
    # links); over the rate: 429 with Retry-After. Generous: a person or an integration never
    # comes near; a runaway script does.
    "DEFAULT_THROTTLE_CLASSES": [
        "partnerportal.core.api.throttling.UserThrottle",
        "partnerportal.core.api.throttling.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("PORTAL_API_RATE_USER", "1200/minute"),
        "anon": os.environ.get("PORTAL_API_RATE_ANON", "120/minute"),
    },
    "NUM_PROXIES": PORTAL_PROXY_COUNT or None,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "partnerportal.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Partner Program Portal API",
    "DESCRIPTION": (
        "Deals, tiers, accreditations, commissions and escalations of the solutions-partner "
        "program."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Serve Swagger UI from our own static files: the docs work without reaching a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "partnerportal.core.models.Organisation.Kind",
        "ActivityKindEnum": "partnerportal.core.models.Activity.Kind",
        "TierEnum": "partnerportal.core.models.Organisation.Tier",
        "TierLineKindEnum": "tiers.models.LineKind",
        "TierRunTriggerEnum": "tiers.models.TierRun.Trigger",
        "SoldSourceEnum": "tiers.models.SoldSource",
        "MotionEnum": "deals.models.Motion",
        "DealStatusEnum": "deals.models.Deal.Status",
        "RegistrationStatusEnum": "deals.models.Registration.Status",
        "PoiStatusEnum": "deals.models.Poi.Status",
        "PoiKindEnum": "deals.models.Poi.Kind",
        "AccreditationKindEnum": "accreditations.models.AccreditationKind",
        "AccreditationStatusEnum": "accreditations.models.AccreditationStatus",
        "CertificationKindEnum": "accreditations.models.CertificationKind",
        "BoardVerdictEnum": "accreditations.models.BoardDecision.Verdict",
        "EscalationStepEnum": "escalations.models.STEP_CHOICES",
        "EscalationStatusEnum": "escalations.models.STATUS_CHOICES",
        "EscalationOutcomeEnum": "escalations.models.OUTCOME_CHOICES",
        "EscalationTargetEnum": "escalations.models.TARGET_CHOICES",
        "NoteVisibilityEnum": "escalations.models.VISIBILITY_CHOICES",
        "ConsequenceKindEnum": "escalations.models.CONSEQUENCE_CHOICES",
        "LedgerLineKindEnum": "commissions.models.LedgerLine.Kind",
        "StatementStatusEnum": "commissions.models.Statement.Status",
        "StatementHeldReasonEnum": "commissions.models.Statement.HeldReason",
        # deals' registration outcome, named so it does not collide with the escalation one.
        "RegistrationOutcomeEnum": ["credited", "not_credited", "awaiting_decision"],
    },
}

# Celery: Redis broker, JSON only. Tasks are enqueued after commit (task.delay_on_commit).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered: every task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / ".run" / "celerybeat-schedule")
)

# The one beat schedule of the program, in code. Each entry names the SPEC rule it serves.
# Later capabilities add their periodic jobs here (re-tiering on the 15th, accreditation
# reviews in January and July, monthly accrual, deadline sweeps).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # SPEC 4: re-tiering runs on the 15th of every month (down-tiering only in the January and
    # July runs, decided by the rules). Late in the day: the managed window includes the run
    # date itself, and an assessment, once made, is final.
    "tiers-monthly-retier": {
        "task": "tiers.monthly_retier",
        "schedule": crontab(minute=0, hour=23, day_of_month="15"),
    },
    # SPEC 8: accreditations are reviewed on 15 January and 15 July (grace, revocation,
    # renewal). After that day's re-tiering (23:00), so the review reads the new tiers.
    "accreditations-half-yearly-review": {
        "task": "accreditations.half_yearly_review",
        "schedule": crontab(minute=30, hour=23, day_of_month="15", month_of_year="1,7"),
    },
    # SPEC 5: a Partner Assisted invitation not accepted within 72 hours lapses. Idempotent,
    # so every 15 minutes: an invitation lapses at most 15 minutes late (accepting after 72
    # hours is refused at once, whatever the sweep).
    "deals-lapse-invitations": {
        "task": "deals.lapse_invitations",
        "schedule": crontab(minute="*/15"),
    },
    # SPEC 10: a consequence starting or ending on a date changes the partner's standing that
    # day (warning, suspension, termination). Just after midnight; idempotent.
    "escalations-refresh-standings": {
        "task": "escalations.refresh_standings",
        "schedule": crontab(minute=5, hour=0),
    },
    # SPEC 7: revenue share accrues monthly. On the 1st at 02:00, through the month just ended
    # (billing corrections of earlier months reversed and replaced); idempotent.
    "commissions-monthly-accrual": {
        "task": "commissions.monthly_accrual",
        "schedule": crontab(minute=0, hour=2, day_of_month="1"),
    },
    # The notifications outbox (core.notifications): e-mails still unsent after their own
    # task (a worker lost after commit, retries exhausted) are sent again; never twice.
    "core-send-pending-notifications": {
        "task": "core.send_pending_notifications",
        "schedule": crontab(minute="*/10"),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "expected_errors": {"()": "partnerportal.core.log_filters.ExpectedErrorsWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" its own console handler (under DEBUG) on top
        # of the root's, so every record was written twice: listing it here without handlers
        # removes that one, and its records reach the root's handler once.
        "django": {"level": "INFO"},
        # An expected 403/404 is one line (status, reason, path), not a traceback.
        "django.request": {"filters": ["expected_errors"]},
        # django-axes logs every attempt at INFO; failures and lockouts are its WARNINGs.
        "axes": {"level": "WARNING"},
    },
}

# Absolute address of the portal, for links made outside a request (e-mails, seed_demo's
# output; `./dev.sh` sets it from PORT). Pages and the API build links from the request.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Accept the authenticator code of the previous/next 30-second step too (clock drift).
MFA_TOTP_TOLERANCE = 1
