"""`manage.py retier --as-of YYYY-MM-DD`: the monthly re-tiering run for a date (SPEC 4, 11)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partnerportal.core.errors import DomainError
from tiers import selectors, services
from tiers.inputs import RUN_DATE_MIN
from tiers.models import TierRun


def _as_of(value: str) -> date:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007  (a date, no time)
    except ValueError as exc:
        raise CommandError(
            f"--as-of must be a calendar date written YYYY-MM-DD (e.g. 2026-03-15), not '{value}'."
        ) from exc
    if day < RUN_DATE_MIN:
        raise CommandError(f"--as-of must be {RUN_DATE_MIN.isoformat()} or later, not {value}.")
    return day


class Command(BaseCommand):
    help = (
        "Assess every partner not yet assessed for the date and re-tier them. Idempotent: "
        "partners already assessed for the date are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help="The run date, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _as_of(options["as_of"])
        try:
            result = services.tier_run(as_of=as_of, actor=None, trigger=TierRun.Trigger.COMMAND)
        except DomainError as exc:  # the date the rules refuse, said as they say it
            raise CommandError(exc.message) from exc
        already = selectors.assessed_count(as_of=as_of) - result.partners_assessed
        self.stdout.write(
            f"Run {result.run_id} for {as_of.isoformat()} (rules of "
            f"{result.rule_set_effective_from.isoformat()}): {result.partners_assessed} "
            f"partners assessed, {result.tier_changes} tier changes; {already} already "
            "assessed for this date, left as they were."
        )
