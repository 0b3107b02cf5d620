"""`manage.py import_certifications FILE.csv`: load the academy's export of certifications.

Columns (a header row): `partner` (the partner's id), `code`, `kind` (software,
implementation, program), `holder_email`, `expires_on` (YYYY-MM-DD, may be empty). Idempotent
(partner, code and holder name one certification); a bad row is reported with its line number
and the others go in. Prints what it did."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accreditations import services
from accreditations.api.serializers import CertificationIn
from accreditations.inputs import CSV_ROWS_MAX
from partnerportal.core.errors import DomainError

COLUMNS = ("partner", "code", "kind", "holder_email", "expires_on")


def _problem(errors: dict[str, Any]) -> str:
    return "; ".join(
        f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in errors.items()
    )


class Command(BaseCommand):
    help = "Import the academy's certifications from a CSV file (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="The CSV export: partner,code,kind,holder_email,expires_on"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        bad: list[str] = []
        with handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(
                    f"{path.name} lacks the column(s) {', '.join(missing)} (expected a header "
                    f"row: {','.join(COLUMNS)})."
                )
            for row in reader:
                line = reader.line_num
                if sum(counts.values()) + len(bad) >= CSV_ROWS_MAX:
                    bad.append(f"line {line}: more than {CSV_ROWS_MAX} rows; the rest skipped")
                    break
                data = CertificationIn(
                    data={
                        "partner": (row.get("partner") or "").strip(),
                        "code": (row.get("code") or "").strip(),
                        "kind": (row.get("kind") or "").strip().lower(),
                        "holder_email": (row.get("holder_email") or "").strip(),
                        "expires_on": (row.get("expires_on") or "").strip() or None,
                    }
                )
                if not data.is_valid():
                    bad.append(f"line {line}: {_problem(data.errors)}")
                    continue
                try:
                    _, what = services.certification_record(actor=None, data=data.to_input())
                except DomainError as exc:
                    bad.append(f"line {line}: {exc.message}")
                    continue
                counts[what] += 1
        for problem in bad:
            self.stderr.write(problem)
        self.stdout.write(
            f"{counts['created']} certifications recorded, {counts['updated']} updated, "
            f"{counts['unchanged']} already recorded as they are; {len(bad)} rows refused."
        )
