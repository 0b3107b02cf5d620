"""Tier tasks. Periodic and idempotent: a redelivered or repeated run changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.utils import timezone

from . import services
from .models import TierRun


@shared_task(name="tiers.monthly_retier")
def monthly_retier(as_of: str | None = None) -> dict[str, Any]:
    """Re-tier every partner for `as_of` (ISO date; default today by the process clock).

    Scheduled on the 15th of every month (SPEC 4). Resumable: if a worker dies mid-run the
    message is redelivered (acks late) and the run assesses only the partners still missing.
    """
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    result = services.tier_run(as_of=day, actor=None, trigger=TierRun.Trigger.SCHEDULE)
    return {
        "run": result.run_id,
        "as_of": result.as_of.isoformat(),
        "partners_assessed": result.partners_assessed,
        "tier_changes": result.tier_changes,
    }
