"""Typed input of the escalation services, and the bounds of each value.

The API serializers (`escalations.api.serializers`) and the page forms (`escalations.forms`)
parse and bound the request with these limits and hand the services these values: a service
never sees request data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from partnerportal.core.models import Organisation

from .models import NOTE_MAX, REASON_MAX, SUMMARY_MAX
from .rules import TIER_DROP_MAX, ConsequenceKind, Visibility

__all__ = [
    "DIRECTOR_MAX",
    "DOMAIN_MAX",
    "NOTE_MAX",
    "REASON_MAX",
    "SUMMARY_MAX",
    "TIER_DROP_MAX",
    "ConsequenceEnd",
    "ConsequenceInput",
    "EscalationInput",
    "MoveInput",
]

DOMAIN_MAX: Final = 300  # as typed, before normalisation (a scheme, `www.`, a path)
DIRECTOR_MAX: Final = 200  # Transition.director_approval, Mark.director_approval


@dataclass(frozen=True, kw_only=True)
class EscalationInput:
    """A customer's complaint about a partner, as staff raise it."""

    partner: Organisation
    customer_domain: str
    summary: str
    serious: bool = False
    note: str = ""
    note_visibility: Visibility = Visibility.STAFF_ONLY


@dataclass(frozen=True, kw_only=True)
class MoveInput:
    """One move of a case, as the owner of its step asks for it."""

    to: str
    outcome: str | None = None
    note: str = ""
    note_visibility: Visibility = Visibility.STAFF_ONLY
    director_approval: str = ""


@dataclass(frozen=True, kw_only=True)
class ConsequenceInput:
    """A consequence partner ops apply to a partner, with a reason."""

    partner: Organisation
    kind: ConsequenceKind
    reason: str
    effective_from: date
    effective_until: date | None = None
    tiers_dropped: int | None = None
    escalation_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ConsequenceEnd:
    """Partner ops end a consequence on a date, with a reason."""

    effective_until: date
    reason: str
