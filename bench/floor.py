"""The floor of a re-tier run: one hand-written SQL aggregation of every partner's points.

It reads the same tables as `tiers.services.tier_run` and applies SPEC 4 directly, with no
temporary table, no per-line output and no writes, so its time is what the database needs
just to *know* the totals. `compare` checks the run's stored assessments against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

#: Points are stored settled to 12 places (`tiers.rules.POINTS_RESOLUTION`); so is the floor.
STORED_PLACES = 12

FLOOR_SQL = """
WITH
month_lines AS (
    -- The version in effect on the first day of the month, per subscription line.
    SELECT v.subscription_id, s.customer_id, s.product_line_id, v.mrr, v.currency_id
    FROM core_subscriptionversion v
    JOIN core_subscription s ON s.id = v.subscription_id
    WHERE v.effective_from <= %(month)s
      AND (v.effective_until IS NULL OR v.effective_until > %(month)s)
      AND v.mrr > 0
),
managed AS (
    SELECT m.organisation_id,
           SUM(CAST(ml.mrr * %(managed_weight)s
                    * CASE WHEN co.growth_market THEN %(growth)s ELSE 1 END
                    AS numeric(60, 40)) / cur.points_amount) AS points
    FROM (SELECT DISTINCT organisation_id, customer_id
          FROM core_activity
          WHERE kind = ANY(%(eligible_kinds)s)
            AND occurred_at >= %(window_start)s AND occurred_at < %(window_end)s) m
    JOIN month_lines ml ON ml.customer_id = m.customer_id
    JOIN core_customer c ON c.id = m.customer_id
    JOIN core_country co ON co.code = c.country_id
    JOIN core_currency cur ON cur.code = ml.currency_id
    GROUP BY m.organisation_id
),
sold AS (
    SELECT sa.organisation_id,
           SUM(points) FILTER (WHERE sa.kind = 'partner_sourced') AS sourced,
           SUM(points) FILTER (WHERE sa.kind = 'partner_assisted') AS assisted
    FROM (
        SELECT sa.organisation_id, sa.kind,
               GREATEST(0,
                   CAST(ml.mrr * w.weight * g.mult AS numeric(60, 40)) / cur.points_amount
                   - COALESCE(CAST(ya.mrr * w.weight * g.mult AS numeric(60, 40))
                              / ya_cur.points_amount, 0)) AS points
        FROM deals_soldassociation sa
        JOIN month_lines ml
             ON ml.customer_id = sa.customer_id AND ml.product_line_id = sa.product_line_id
        -- Same line, same month a year earlier (none: the whole MRR is growth).
        LEFT JOIN core_subscriptionversion ya
             ON ya.subscription_id = ml.subscription_id
            AND ya.effective_from <= %(year_ago)s
            AND (ya.effective_until IS NULL OR ya.effective_until > %(year_ago)s)
        LEFT JOIN core_currency ya_cur ON ya_cur.code = ya.currency_id
        JOIN core_currency cur ON cur.code = ml.currency_id
        JOIN core_customer c ON c.id = sa.customer_id
        JOIN core_country co ON co.code = c.country_id
        CROSS JOIN LATERAL (SELECT CASE WHEN co.growth_market THEN %(growth)s
                                        ELSE 1 END AS mult) g
        CROSS JOIN LATERAL (SELECT CASE sa.kind WHEN 'partner_sourced' THEN %(sourced_weight)s
                                                ELSE %(assisted_weight)s END AS weight) w
        WHERE sa.close_date <= %(as_of)s
    ) sa
    GROUP BY sa.organisation_id
)
SELECT o.id,
       ROUND(COALESCE(sold.sourced, 0), 12),
       ROUND(COALESCE(sold.assisted, 0), 12),
       ROUND(COALESCE(managed.points, 0), 12),
       ROUND(COALESCE(sold.sourced, 0) + COALESCE(sold.assisted, 0)
             + COALESCE(managed.points, 0), 12)
FROM core_organisation o
LEFT JOIN sold ON sold.organisation_id = o.id
LEFT JOIN managed ON managed.organisation_id = o.id
WHERE o.kind = 'partner'
"""

#: (sourced, assisted, managed, total) points of one partner, at the stored precision.
Totals = tuple[Decimal, Decimal, Decimal, Decimal]


def floor_params(as_of: date) -> dict[str, Any]:
    """Return the floor's parameters for a run on `as_of` (the rule set in force then)."""
    from django.utils import timezone

    from tiers import rules
    from tiers.selectors import rule_set_in_force

    rule_set = rule_set_in_force(on=as_of).rule_set
    weights = rule_set.points_per_usd100
    tz = timezone.get_default_timezone()
    return {
        "as_of": as_of,
        "month": as_of.replace(day=1),
        "year_ago": date(as_of.year - 1, as_of.month, 1),
        "eligible_kinds": sorted(rules.ELIGIBLE_ACTIVITY_KINDS),
        # The calendar days [as_of - 60, as_of] in the program's time zone.
        "window_start": datetime.combine(
            rules.managed_window_start(as_of=as_of), time.min, tzinfo=tz
        ),
        "window_end": datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=tz),
        "managed_weight": weights[rules.LineKind.MANAGED],
        "sourced_weight": weights[rules.LineKind.SOURCED],
        "assisted_weight": weights[rules.LineKind.ASSISTED],
        "growth": rule_set.growth_multiplier,
    }


def floor_totals(as_of: date) -> dict[int, Totals]:
    """Run the floor: every partner's totals as of `as_of`, in one statement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, floor_params(as_of))
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}  # type: ignore[misc]


def stored_totals(as_of: date) -> dict[int, Totals]:
    """Return the totals the run stored in its assessments for `as_of`."""
    from tiers.models import TierAssessment

    rows = TierAssessment.objects.filter(as_of=as_of).values_list(
        "organisation_id", "sourced_points", "assisted_points", "managed_points", "total_points"
    )
    return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


@dataclass(frozen=True)
class Comparison:
    partners: int
    matched: int
    mismatches: list[tuple[int, Totals | None, Totals | None]]

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.partners == self.matched


def compare(*, floor: dict[int, Totals], stored: dict[int, Totals]) -> Comparison:
    """Compare per-partner totals exactly (both sides at the stored 12 places)."""
    mismatches = [
        (org_id, floor.get(org_id), stored.get(org_id))
        for org_id in sorted(floor.keys() | stored.keys())
        if floor.get(org_id) != stored.get(org_id)
    ]
    return Comparison(
        partners=len(floor), matched=len(floor) - len(mismatches), mismatches=mismatches
    )
