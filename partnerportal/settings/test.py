"""Tests: real PostgreSQL and Redis, fast hashing, in-memory e-mail."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests use their own Redis database (15 unless TEST_REDIS_URL says otherwise), so a
# development worker never picks up a message a test enqueued, and the keys stay apart.
_redis = urlsplit(REDIS_URL)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", urlunsplit(_redis._replace(path="/15")))
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
