"""Shared test steps for accreditations: certifications held, marks on record, the process
clock moved (as the tier tests move it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from accreditations.models import Certification
from escalations.models import Escalation, Mark
from partnerportal.core.models import Organisation, User


def certify(
    org: Organisation,
    *codes: str,
    kind: str = "implementation",
    holder: str = "expert@team.example",
    expires_on: date | None = None,
) -> None:
    """`org`'s team holds each of `codes` (one holder)."""
    for code in codes:
        Certification.objects.create(
            organisation=org,
            code=code,
            kind="program" if code == "solutions_partner" else kind,
            holder_email=holder,
            expires_on=expires_on,
        )


def give_marks(org: Organisation, count: int, *, on: date, by: User) -> None:
    """`count` marks on record for `org`, effective on `on` (as the escalations board makes
    them: a closed case whose outcome is a mark)."""
    for n in range(count):
        case = Escalation.objects.create(
            organisation=org,
            customer_domain=f"complaint{n}.example",
            summary="A complaint",
            step="review_board",
            status="closed",
            outcome="mark",
            opened_by=by,
            closed_at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
        )
        Mark.objects.create(
            organisation=org,
            escalation=case,
            effective_on=on,
            decided_by=by,
            director_approval="Director D.",
        )


def clock_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Return a setter of the process clock (`timezone.now`) to noon UTC on a day."""

    def set_day(day: date) -> None:
        moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_day
