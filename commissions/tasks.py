"""Periodic commissions jobs (beat schedule in settings: SPEC 7)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from partnerportal.core.rules import first_of_month, months_back

from . import services
from .models import AccrualRun


@shared_task(name="commissions.monthly_accrual")
def monthly_accrual(month: str | None = None) -> int:
    """Accrue through last month (a month is billed from its 1st; the run on the 1st closes
    the month before). `month` (YYYY-MM-01) re-dispatches a missed month by hand. Idempotent,
    so a redelivered task adds nothing. Returns the run id."""
    when = (
        date.fromisoformat(month) if month else months_back(first_of_month(timezone.localdate()), 1)
    )
    result = services.accrual_run(month=when, actor=None, trigger=AccrualRun.Trigger.SCHEDULE)
    return result.run.pk
