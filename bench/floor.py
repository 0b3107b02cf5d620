"""The floor of a re-tier run: one hand-written SQL aggregation of every partner's points.

It reads the same tables as `tiers.services.tier_run` and applies SPEC 4 directly, with no
temporary table, no per-line output and no writes, so its time is what the database needs
just to *know* the totals. `compare` checks the run's stored assessments against it.

Written for speed as much as for clarity: the versions are read once (this month's and a
year ago's together) and joined by hash, and JIT is off for it (see `floor_totals`). Same
arithmetic as the run: MRR x weight x growth multiplier at 40 decimal places, divided by the
currency's USD-100 amount last; a partner's totals are compared at the stored 12 places.
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
in_effect AS (
    -- One pass over the versions: those in effect on the first day of the run's month (now)
    -- or of the same month a year earlier (then). Versions of a line never overlap.
    SELECT v.subscription_id, v.mrr, v.currency_id,
           (v.effective_from <= %(month)s
            AND (v.effective_until IS NULL OR v.effective_until > %(month)s)) AS is_now,
           (v.effective_from <= %(year_ago)s
            AND (v.effective_until IS NULL OR v.effective_until > %(year_ago)s)) AS is_then
    FROM core_subscriptionversion v
    WHERE (v.effective_from <= %(month)s
           AND (v.effective_until IS NULL OR v.effective_until > %(month)s))
       OR (v.effective_from <= %(year_ago)s
           AND (v.effective_until IS NULL OR v.effective_until > %(year_ago)s))
),
lines AS (
    -- Every line billed this month, with its MRR a year ago (if any) and both currencies'
    -- USD-100 amounts, and whether its customer is in a growth market.
    SELECT s.customer_id, s.product_line_id, co.growth_market,
           now_v.mrr AS mrr_now, now_cur.points_amount AS amount_now,
           then_v.mrr AS mrr_then, then_cur.points_amount AS amount_then
    FROM in_effect now_v
    JOIN core_subscription s ON s.id = now_v.subscription_id
    JOIN core_customer c ON c.id = s.customer_id
    JOIN core_country co ON co.code = c.country_id
    JOIN core_currency now_cur ON now_cur.code = now_v.currency_id
    LEFT JOIN in_effect then_v
         ON then_v.subscription_id = now_v.subscription_id AND then_v.is_then
    LEFT JOIN core_currency then_cur ON then_cur.code = then_v.currency_id
    WHERE now_v.is_now AND now_v.mrr > 0
),
managed AS (
    -- Every line of a customer with eligible activity by the partner in the window.
    SELECT m.organisation_id,
           SUM(CAST(l.mrr_now * %(managed_weight)s
                    * CASE WHEN l.growth_market THEN %(growth)s ELSE 1 END
                    AS numeric(60, 40)) / l.amount_now) AS points
    FROM (SELECT DISTINCT organisation_id, customer_id
          FROM core_activity
          WHERE kind = ANY(%(eligible_kinds)s)
            AND occurred_at >= %(window_start)s AND occurred_at < %(window_end)s) m
    JOIN lines l ON l.customer_id = m.customer_id
    GROUP BY m.organisation_id
),
sold AS (
    -- Growth over the same month a year earlier, never negative, on each line the partner
    -- held (closed) by the run date; weighted by the kind of the deal that made it.
    SELECT sa.organisation_id,
           SUM(sa.points) FILTER (WHERE sa.kind = 'partner_sourced') AS sourced,
           SUM(sa.points) FILTER (WHERE sa.kind = 'partner_assisted') AS assisted
    FROM (
        SELECT sa.organisation_id, sa.kind,
               GREATEST(0,
                   CAST(l.mrr_now * w.weight AS numeric(60, 40)) / l.amount_now
                   - COALESCE(CAST(l.mrr_then * w.weight AS numeric(60, 40)) / l.amount_then,
                              0)) AS points
        FROM deals_soldassociation sa
        JOIN lines l ON l.customer_id = sa.customer_id AND l.product_line_id = sa.product_line_id
        CROSS JOIN LATERAL (
            SELECT CASE sa.kind WHEN 'partner_sourced' THEN %(sourced_weight)s
                                ELSE %(assisted_weight)s END
                   * CASE WHEN l.growth_market THEN %(growth)s ELSE 1 END AS weight) w
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

    from partnerportal.core.rules import first_of_month, months_back
    from tiers import rules
    from tiers.selectors import rule_set_in_force

    rule_set = rule_set_in_force(on=as_of).rule_set
    weights = rule_set.points_per_usd100
    tz = timezone.get_default_timezone()
    return {
        "as_of": as_of,
        "month": first_of_month(as_of),
        "year_ago": months_back(as_of, 12),
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
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compilation costs this one-off statement 2-3 s at this scale and saves less.
        cursor.execute("SET LOCAL jit = off")
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
