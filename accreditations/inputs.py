"""Typed input of the accreditation services, and the bounds of each value. The serializers
(`api.serializers`), the forms (`forms`) and the CSV import parse and bound the request with
these and hand the services these values: a service never sees request data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from . import rules
from .models import CODE_MAX, DIRECTOR_MAX, REASON_MAX

__all__ = ["CODE_MAX", "DIRECTOR_MAX", "REASON_MAX"]

EMAIL_MAX: Final = 254
#: Reviews and expiries from this date on (the program's records start later).
DATE_MIN: Final = date(2000, 1, 1)
DATE_MAX: Final = date(2199, 12, 31)
REQUIRED_MAX: Final = 20  # certifications a kind may require
CSV_ROWS_MAX: Final = 200_000


@dataclass(frozen=True, kw_only=True)
class CertificationInput:
    """One certification as the academy reports it."""

    organisation_id: int
    code: str
    kind: rules.CertificationKind
    holder_email: str
    expires_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class BoardDecisionInput:
    verdict: rules.BoardVerdict
    reason: str
    director: str
    director_approved_on: date
