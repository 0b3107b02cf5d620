"""`manage.py close_quarter --quarter YYYY-Qn [--dry-run]`: the quarterly statements
(SPEC 7, 11)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commissions import rules, selectors, services
from partnerportal.core.errors import DomainError


def _totals_lines(totals: list[selectors.Total]) -> list[str]:
    return [
        f"  {t.status} {t.currency}: {t.statements} statements, {t.amount}" for t in totals
    ] or ["  no statements"]


class Command(BaseCommand):
    help = (
        "Close a quarter: one statement per partner and currency from the ledger, payable 45 "
        "days after the quarter ends, held while payout paperwork is incomplete or the partner "
        "is not in good standing. Idempotent: a closed quarter is left as it is. --dry-run "
        "prints what the close would produce and writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help="The quarter, YYYY-Qn (e.g. 2026-Q1).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what the close would produce only."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quarter = rules.parse_quarter(options["quarter"])
        except ValueError as exc:
            raise CommandError(f"--quarter {options['quarter']!r}: {exc}") from exc
        try:
            if options["dry_run"]:
                self._dry_run(quarter)
            else:
                self._close(quarter)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _dry_run(self, quarter: rules.Quarter) -> None:
        preview = services.preview_quarter(actor=None, quarter=quarter)
        if preview.already_closed:
            self.stdout.write(f"{quarter.label} is already closed; nothing would change.")
        else:
            self.stdout.write(
                f"Dry run: closing {quarter.label} would make {len(preview.statements)} "
                f"statements, payable on {rules.payable_on(quarter):%Y-%m-%d}. Nothing written."
            )
        for line in _totals_lines(preview.totals):
            self.stdout.write(line)
        for s in preview.statements:
            if s.held_reasons:
                self.stdout.write(
                    f"  held: {s.organisation_name} {s.currency} {s.total} "
                    f"({', '.join(s.held_reasons)})"
                )

    def _close(self, quarter: rules.Quarter) -> None:
        result = services.close_quarter(actor=None, quarter=quarter)
        if not result.created:
            self.stdout.write(
                f"{quarter.label} is already closed (on {result.close.closed_at:%Y-%m-%d}, "
                f"{result.statements} statements, {result.lines} lines); nothing changed."
            )
        else:
            self.stdout.write(
                f"Closed {quarter.label}: {result.statements} statements, {result.lines} lines, "
                f"payable on {rules.payable_on(quarter):%Y-%m-%d}."
            )
        for line in _totals_lines(selectors.quarter_totals(quarter)):
            self.stdout.write(line)
