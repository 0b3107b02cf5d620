"""Writes of escalations (SPEC 9, 10). Each service checks permission, validates, writes,
audits and queues its notifications in one transaction; views, serializers, commands and
tasks call these and never save models."""

from __future__ import annotations

from .cases import escalation_move, escalation_open
from .consequences import consequence_apply, consequence_end, standings_refresh

__all__ = [
    "consequence_apply",
    "consequence_end",
    "escalation_move",
    "escalation_open",
    "standings_refresh",
]
