"""Logging filters of the portal (settings `LOGGING`)."""

from __future__ import annotations

import logging

#: Statuses that answer a request as designed: a 403 (a forbidden action) or a 404 (outside
#: the caller's reach, or absent). They are worth one line in the log, not a traceback.
EXPECTED_STATUSES = frozenset({403, 404})


class ExpectedErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback from `django.request`'s record of an expected 403/404.

    Django logs `PermissionDenied` and `Http404` (our `Forbidden` and `NotFound` are both) with
    the exception attached, so every refused request printed a full traceback. The record is
    kept (one line: status, reason and path); a 500 keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in EXPECTED_STATUSES:
            record.exc_info = None
            record.exc_text = None
        return True
