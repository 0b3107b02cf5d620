"""`manage.py accrue --month YYYY-MM`: the monthly revenue-share accrual (SPEC 7, 11)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commissions import services
from commissions.inputs import parse_month
from commissions.models import AccrualRun
from partnerportal.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Accrue revenue share through a month: every entitlement's lines up to that month, "
        "billing corrections reversed and replaced. Idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="The month, YYYY-MM.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = parse_month(options["month"])
            result = services.accrual_run(
                month=month, actor=None, trigger=AccrualRun.Trigger.COMMAND
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Run {result.run.pk} through {month:%Y-%m}: {result.entitlements_derived} "
            f"entitlements derived, {result.lines_accrued} lines accrued, "
            f"{result.lines_reversed} lines reversed."
        )
