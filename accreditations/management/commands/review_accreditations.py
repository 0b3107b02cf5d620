"""`manage.py review_accreditations --as-of DATE`: the January/July review (SPEC 8, 11)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accreditations import services
from accreditations.models import ReviewRun
from partnerportal.core.errors import DomainError


def _as_of(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007  (a date, no time)
    except ValueError as exc:
        raise CommandError(
            f"--as-of must be a calendar date written YYYY-MM-DD (e.g. 2027-01-15), not '{value}'."
        ) from exc


class Command(BaseCommand):
    help = (
        "Review every held accreditation for a review date (15 January or 15 July). "
        "Idempotent: accreditations already reviewed for the date are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, help="The review date, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _as_of(options["as_of"])
        try:
            result = services.review_run(as_of=as_of, actor=None, trigger=ReviewRun.Trigger.COMMAND)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Review {result.run_id} for {as_of.isoformat()}: {result.reviewed} accreditations "
            f"reviewed, {result.changed} changed; those already reviewed for this date were "
            "left as they were."
        )
