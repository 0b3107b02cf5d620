"""Deal tasks. Periodic and idempotent: a redelivered or repeated run changes nothing."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="deals.lapse_invitations")
def lapse_invitations() -> int:
    """Lapse every Partner Assisted invitation not accepted within 72 hours (SPEC 5); return
    how many lapsed. Scheduled every 15 minutes. Only invitations still `invited` and past
    their expiry change, so a second run (or a redelivery) finds nothing to do."""
    return services.invitations_lapse()
