"""Tests: real PostgreSQL and Redis, fast hashing, in-memory e-mail."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def worker_redis_url(base: str, worker: str) -> str:
    """The Redis database of one test process. Serial runs use the base database; each
    pytest-xdist worker (PYTEST_XDIST_WORKER gw0, gw1, ...) uses the base database minus its
    index (15, 14, ...), so one worker's flush or queue never touches another's keys. A
    subprocess a test starts inherits the variable and so lands on its worker's database."""
    if not worker:
        return base
    parts = urlsplit(base)
    db = int(parts.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    if db < 0:
        raise ImproperlyConfigured(
            f"TEST_REDIS_URL {base} leaves no Redis database for xdist worker {worker}: "
            "its database number must be at least the number of workers minus one"
        )
    return urlunsplit(parts._replace(path=f"/{db}"))


# Tests use their own Redis database (15 unless TEST_REDIS_URL says otherwise; each parallel
# worker one below, see worker_redis_url), so a development worker never picks up a message a
# test enqueued, and the keys stay apart.
_redis = urlsplit(REDIS_URL)
TEST_REDIS_URL = worker_redis_url(
    os.environ.get("TEST_REDIS_URL", urlunsplit(_redis._replace(path="/15"))),
    os.environ.get("PYTEST_XDIST_WORKER", ""),
)
CACHES = {
    "default": {
        "BACKEND": "partnerportal.core.cache.PortalRedisCache",
        "LOCATION": TEST_REDIS_URL,
        "KEY_PREFIX": "partnerportal-test",
    }
}
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = "partnerportal-test"
PORTAL_STAFF_MFA_REQUIRED = True

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
