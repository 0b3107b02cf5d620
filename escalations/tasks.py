"""Escalation tasks. Tasks take ids or dates, reload, and act; every task is idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="escalations.refresh_standings")
def refresh_standings() -> int:
    """Bring each partner's standing in line with the consequences in effect today (one that
    starts or ends today takes effect). Idempotent: a second run changes nothing."""
    return services.standings_refresh(as_of=timezone.localdate())
