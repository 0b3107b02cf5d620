"""Demo tier history: the monthly runs of the last months and one for today, so a newcomer's
partner home page shows a tier, progress and a chart (through the real engine)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from partnerportal.core.rules import months_back

from . import services
from .models import TierAssessment, TierRun


def demo_run_dates(today: date, months: int = 5) -> list[date]:
    """The 15th of each of the last `months` months that is not after today, then today."""
    fifteenths = [months_back(today, n).replace(day=15) for n in range(months, -1, -1)]
    return sorted({d for d in fifteenths if d <= today} | {today})


def seed_demo_assessments() -> list[str]:
    """Run the re-tiering for the demo dates (idempotent: the engine skips assessed partners)."""
    if TierAssessment.objects.exists():
        return ["Demo tier assessments already exist: nothing to do."]
    dates = demo_run_dates(timezone.localdate())
    assessed = 0
    for as_of in dates:
        assessed += services.tier_run(
            as_of=as_of, actor=None, trigger=TierRun.Trigger.COMMAND
        ).partners_assessed
    return [
        f"Ran the re-tiering for {len(dates)} dates ({dates[0]} to {dates[-1]}): "
        f"{assessed} assessments."
    ]
