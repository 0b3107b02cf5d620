"""Seed SPEC 4's two tier rule sets (2025-07-15 and 2026-01-15) with their targets.

Frozen copies of the SPEC tables: app code is not imported, so this migration keeps meaning
what it meant when written. Later rule sets are added by partner ops in the admin.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import migrations

# (effective_from, [(tier, sold_min, managed_min, total_min), ...]) -- SPEC 4.
RULE_SETS = [
    (
        datetime.date(2025, 7, 15),
        [
            ("elite", 1950, 1700, 8600),
            ("diamond", 570, 550, 2990),
            ("platinum", 270, 150, 875),
            ("gold", 113, 38, 300),
        ],
    ),
    (
        datetime.date(2026, 1, 15),
        [
            ("elite", 2100, 1700, 9000),
            ("diamond", 950, 550, 3100),
            ("platinum", 325, 150, 925),
            ("gold", 110, 38, 325),
        ],
    ),
]


def seed(apps, schema_editor):
    TierRuleSet = apps.get_model("tiers", "TierRuleSet")
    TierTarget = apps.get_model("tiers", "TierTarget")
    for effective_from, targets in RULE_SETS:
        # Both SPEC sets: 5/3/1 points per USD 100, doubled in growth markets, sold minimum
        # counting Partner Sourced points only (SPEC 4: rule sets from 2025-07-15 on).
        rule_set = TierRuleSet.objects.create(
            effective_from=effective_from,
            sold_min_sourced_only=True,
            sourced_points=Decimal(5),
            assisted_points=Decimal(3),
            managed_points=Decimal(1),
            growth_multiplier=Decimal(2),
            pro_subscription_min_usd=Decimal(400),
            elite_min_customer_retention_pct=Decimal(85),
            elite_min_revenue_retention_pct=Decimal(85),
            elite_min_team_certifications=100,
            matching_min_sourced_share_pct=Decimal(20),
            matching_min_customer_retention_pct=Decimal(85),
            matching_min_tier="platinum",
        )
        TierTarget.objects.bulk_create(
            TierTarget(
                rule_set=rule_set,
                tier=tier,
                sold_min=Decimal(sold),
                managed_min=Decimal(managed),
                total_min=Decimal(total),
            )
            for tier, sold, managed, total in targets
        )


def unseed(apps, schema_editor):
    TierRuleSet = apps.get_model("tiers", "TierRuleSet")
    TierRuleSet.objects.filter(effective_from__in=[d for d, _ in RULE_SETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_tier_rule_sets_and_assessments")]

    operations = [migrations.RunPython(seed, unseed)]
