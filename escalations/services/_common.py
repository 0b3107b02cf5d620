"""What the escalation services share: bounded text and the process clock."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from partnerportal.core.errors import InvalidInput


def now() -> datetime:
    return timezone.now()


def today() -> date:
    return timezone.localdate()


def bounded_text(value: str, *, limit: int, field: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput("This field is required.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters.", field=field)
    return text
