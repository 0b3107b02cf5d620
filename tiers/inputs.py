"""Typed input of the tier services and pages, and the bounds of each value.

The API serializers (`tiers.api.serializers`), the page and admin forms (`tiers.forms`,
`tiers.admin`) and the `retier` command parse and bound what arrives with these limits and
hand on these values: a service never sees request data. Money takes the kernel's bounds
(`core.rules`: what a `numeric(14, 2)` column holds, a subscription version's MRR included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from partnerportal.core.rules import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS

from . import rules

__all__ = [
    "ELITE_REASON_MAX",
    "MONEY_DECIMAL_PLACES",
    "MONEY_MAX",
    "MONEY_MAX_DIGITS",
    "RUN_DATE_MIN",
    "RuleSetInput",
    "TargetInput",
    "WhatIfInput",
]

#: The earliest date a run may be asked for. Nothing in the program is older; a later date
#: before the first rule set is refused by the run itself, as is a date after today.
RUN_DATE_MIN: Final = date(2000, 1, 1)
#: Why partner ops invite a partner to Elite: a paragraph, not a document.
ELITE_REASON_MAX: Final = 2_000


@dataclass(frozen=True, kw_only=True)
class WhatIfInput:
    """One hypothetical line of the what-if panel: `this_month` of `kind` for a customer in
    `country`; for a sold line, optionally what it was billed the same month a year ago."""

    kind: rules.LineKind
    this_month: rules.Mrr
    year_ago: rules.Mrr | None
    country: str


@dataclass(frozen=True, kw_only=True)
class TargetInput:
    """The three minimums of one tier in a rule set."""

    tier: rules.Tier
    sold_min: Decimal
    managed_min: Decimal
    total_min: Decimal


@dataclass(frozen=True, kw_only=True)
class RuleSetInput:
    """A tier rule set as partner ops write it in the admin: every number of the rules, in
    force from `effective_from` (SPEC 4), with one target per tier."""

    effective_from: date
    sold_min_sourced_only: bool
    sourced_points: Decimal
    assisted_points: Decimal
    managed_points: Decimal
    growth_multiplier: Decimal
    pro_subscription_min_usd: Decimal
    elite_min_customer_retention_pct: Decimal
    elite_min_revenue_retention_pct: Decimal
    elite_min_team_certifications: int
    matching_min_sourced_share_pct: Decimal
    matching_min_customer_retention_pct: Decimal
    matching_min_tier: rules.Tier
    targets: tuple[TargetInput, ...]
