"""SPEC 4's two tier rule sets as pure values, for the tests (production reads rule-set rows;
a migration seeds these into the database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from tiers.rules import LineKind, RuleSet, Tier, TierTarget


def _d(value: str) -> Decimal:
    return Decimal(value)


SPEC_USD100_AMOUNTS: Mapping[str, Decimal] = MappingProxyType(
    {
        "USD": _d("100"),
        "AUD": _d("105"),
        "COP": _d("300300"),
        "EUR": _d("75"),
        "GBP": _d("62.5"),
        "SGD": _d("140"),
        "JPY": _d("12000"),
        "ZAR": _d("1545"),
        "CAD": _d("130"),
    }
)
SPEC_POINTS_PER_USD100: Mapping[LineKind, Decimal] = MappingProxyType(
    {LineKind.SOURCED: _d("5"), LineKind.ASSISTED: _d("3"), LineKind.MANAGED: _d("1")}
)


def _targets(*rows: tuple[Tier, int, int, int]) -> tuple[TierTarget, ...]:
    return tuple(
        TierTarget(tier=t, sold_min=Decimal(s), managed_min=Decimal(m), total_min=Decimal(n))
        for t, s, m, n in rows
    )


#: SPEC 4's two rule sets.
SPEC_RULE_SETS: tuple[RuleSet, ...] = (
    RuleSet(
        effective_from=date(2025, 7, 15),
        targets=_targets(
            (Tier.ELITE, 1950, 1700, 8600),
            (Tier.DIAMOND, 570, 550, 2990),
            (Tier.PLATINUM, 270, 150, 875),
            (Tier.GOLD, 113, 38, 300),
        ),
        usd100_amounts=SPEC_USD100_AMOUNTS,
        points_per_usd100=SPEC_POINTS_PER_USD100,
        sold_min_sourced_only=True,
    ),
    RuleSet(
        effective_from=date(2026, 1, 15),
        targets=_targets(
            (Tier.ELITE, 2100, 1700, 9000),
            (Tier.DIAMOND, 950, 550, 3100),
            (Tier.PLATINUM, 325, 150, 925),
            (Tier.GOLD, 110, 38, 325),
        ),
        usd100_amounts=SPEC_USD100_AMOUNTS,
        points_per_usd100=SPEC_POINTS_PER_USD100,
        sold_min_sourced_only=True,
    ),
)
