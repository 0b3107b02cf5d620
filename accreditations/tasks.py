"""Accreditation tasks. Periodic and idempotent: a redelivered or repeated review changes
nothing (one review record per accreditation and date)."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.utils import timezone

from . import services
from .models import ReviewRun


@shared_task(name="accreditations.half_yearly_review")
def half_yearly_review(as_of: str | None = None) -> dict[str, Any]:
    """Review every held accreditation for `as_of` (ISO date; default today by the process
    clock). Scheduled on 15 January and 15 July (SPEC 8); resumable like the tier run."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    result = services.review_run(as_of=day, actor=None, trigger=ReviewRun.Trigger.SCHEDULE)
    return {
        "run": result.run_id,
        "as_of": result.as_of.isoformat(),
        "reviewed": result.reviewed,
        "changed": result.changed,
    }
