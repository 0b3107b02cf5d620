"""Typed input of commissions, parsed at the edge (API, command)."""

from __future__ import annotations

import re
from datetime import date

from partnerportal.core.errors import InvalidInput

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MONTH_MIN = date(2000, 1, 1)
_MONTH = re.compile(MONTH_PATTERN)


def parse_month(text: str) -> date:
    """`YYYY-MM` -> the first day of that month (from 2000-01); anything else is refused."""
    if not _MONTH.match(text or ""):
        raise InvalidInput("Write the month as YYYY-MM (e.g. 2026-03).", field="month")
    year, month = int(text[:4]), int(text[5:])
    if year < MONTH_MIN.year:  # also keeps year 0, which no date holds, out
        raise InvalidInput(f"The month must be {MONTH_MIN:%Y-%m} or later.", field="month")
    return date(year, month, 1)
