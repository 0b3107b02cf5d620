"""Writes of the tier engine: the monthly re-tiering run (SPEC 4).

A run for date D assesses every partner organisation that has no assessment for D yet, with a
number of statements that depends on the number of chunks, never on the number of lines:

1. compute, in one SQL statement over every such partner, each one's contributing lines
   (managed lines from activities and subscriptions; sold lines from sold associations) and
   their sums by kind, into a temporary table: one row per partner, its lines as arrays;
2. then chunk by chunk, each in one transaction: lock the run date (advisory lock) and the
   chunk's organisations (primary-key order); apply the pure rules (`rules.assess_tier`) to
   each organisation's three sums; insert the assessments and copy their lines
   (`TierAssessmentLines`) from the temporary table; update the tiers that changed in one
   UPDATE and audit each tier change (one bulk insert).

A crashed run leaves whole chunks behind it; running the date again assesses only the
partners still without an assessment (the unique constraint on (organisation, as_of) backs
this up), so it completes the run and changes nothing already written. Partners created
while a run goes are assessed by a further pass of the same run.

Sold points come from the deals app's sold associations (`deals.SoldAssociation`: which
partner holds which customer's product line, as Partner Sourced or Partner Assisted), read by
`SOLD_ASSOCIATIONS_SQL`. Assessments made before they existed say so
(`sold_source = not_yet_recorded`); every run now records `associations`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Exists, OuterRef, Value, When
from django.utils import timezone

from accreditations import selectors as accreditation_selectors
from deals.models import Motion, SoldAssociation
from escalations import selectors as escalation_selectors
from partnerportal.core.access import require
from partnerportal.core.audit import Audited, audit, audit_many
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Organisation, User
from partnerportal.core.rules import Version, first_of_month, months_back
from partnerportal.core.selectors import line_versions
from partnerportal.core.sql import array_literal

from . import rules, selectors
from .inputs import RuleSetInput
from .models import (
    EliteInvitation,
    SoldSource,
    TierAssessment,
    TierRuleSet,
    TierRun,
    TierTarget,
)
from .permissions import TierAction
from .selectors import rule_set_in_force

#: Organisations assessed per transaction. Bounds lock time and memory, not correctness.
DEFAULT_CHUNK_SIZE = 2000

# Every list of organisation ids is cast to bigint[]: psycopg sends small ids as smallint[],
# and `bigint = ANY(smallint[])` cannot be hashed, so each of 400 000 associations would scan
# the chunk's 2 000 ids one by one (seconds a chunk at the vendor's scale, see
# docs/PERFORMANCE.md).

#: Sold associations held on the run date: (organisation_id, customer_id, product_line_id,
#: kind in sourced/assisted). The kind is the motion of the deal that created the association
#: (SPEC 4). An association counts from its close date on, so re-running a past date (or a
#: partner first assessed late) never credits a line the partner did not yet hold.
SOLD_ASSOCIATIONS_SQL = f"""
    SELECT sa.organisation_id, sa.customer_id, sa.product_line_id,
           CASE sa.kind
               WHEN '{Motion.PARTNER_SOURCED.value}' THEN '{rules.LineKind.SOURCED.value}'
               WHEN '{Motion.PARTNER_ASSISTED.value}' THEN '{rules.LineKind.ASSISTED.value}'
           END AS kind
    FROM {SoldAssociation._meta.db_table} sa
    WHERE sa.organisation_id = ANY(%(org_ids)s::bigint[]) AND sa.close_date <= %(as_of)s
"""  # noqa: S608  (built from constants only, never input)
#: Where the assessments' sold lines come from (recorded on each assessment and run).
SOLD_SOURCE: str = SoldSource.ASSOCIATIONS.value

# Every contributing line of the given organisations as of the run date, aggregated per
# organisation into its point sums and its lines (column-wise arrays, element i of each being
# line i, as `TierAssessmentLines` stores them), in one statement over every partner: the
# versions are read once (this month's and a year ago's together) and hash-joined. Money is
# exact: a line's points are MRR x weight x growth multiplier / the currency's USD-100 amount,
# dividing last (as `rules.line_points` does) at 40 decimal places, far finer than the 1e-12
# resolution at which the rules compare points.
#
# This is the pure rules in SQL, for speed, and must say exactly what they say (held equal on
# generated programs by tiers/tests/test_property_sql_equals_rules.py):
# - a line's MRR for a month: `core.rules.version_for_month`;
# - which customers a partner manages: `rules.managed_eligible` (eligible kinds, the window of
#   calendar days up to the run date, both inclusive);
# - what a line earns: `rules.contributing_line` (only lines billed this month, MRR above 0;
#   sold growth compared in USD-100 units, each month in its own currency; the year-ago MRR
#   shown in this month's currency, `rules.mrr_in_currency`).
_PARTNERS_SQL = f"""
CREATE TEMPORARY TABLE tiers_run_partners AS
WITH
billed AS (
    -- Every line billed this month (one subscription per customer and product line), with
    -- its MRR a year ago if it was billed then. MRR for a month is the version in effect on
    -- its first day (SPEC 3, `version_for_month`). A line's versions never overlap (the
    -- exclusion constraint `subversion_no_overlap`), so each join finds at most one, and the
    -- rule's "the later version wins" has nothing to choose between here.
    SELECT s.customer_id, s.product_line_id, co.growth_market,
           v.mrr AS mrr_now, v.currency_id AS currency, cur.points_amount AS amount,
           ya.mrr AS mrr_then, ya.currency_id AS currency_then,
           ya_cur.points_amount AS amount_then
    FROM core_subscriptionversion v
    JOIN core_subscription s ON s.id = v.subscription_id
    JOIN core_customer c ON c.id = s.customer_id
    JOIN core_country co ON co.code = c.country_id
    JOIN core_currency cur ON cur.code = v.currency_id
    LEFT JOIN core_subscriptionversion ya
         ON ya.subscription_id = v.subscription_id
        AND ya.effective_from <= %(year_ago)s
        AND (ya.effective_until IS NULL OR ya.effective_until > %(year_ago)s)
    LEFT JOIN core_currency ya_cur ON ya_cur.code = ya.currency_id
    WHERE v.effective_from <= %(month)s
      AND (v.effective_until IS NULL OR v.effective_until > %(month)s)
      AND v.mrr > 0
),
managed_customers AS (
    -- Eligible activity (not a login) in the window up to the run date (SPEC 4).
    SELECT DISTINCT a.organisation_id, a.customer_id
    FROM core_activity a
    WHERE a.organisation_id = ANY(%(org_ids)s::bigint[])
      AND a.kind = ANY(%(eligible_kinds)s)
      AND a.occurred_at >= %(window_start)s
      AND a.occurred_at < %(window_end)s
),
sold_associations AS (
    {SOLD_ASSOCIATIONS_SQL}
),
lines AS (
    SELECT mc.organisation_id, mc.customer_id, b.product_line_id,
           '{rules.LineKind.MANAGED.value}'::varchar AS kind,
           b.mrr_now AS mrr_this_month, NULL::numeric AS mrr_year_ago,
           b.currency, b.growth_market,
           CAST(CAST(b.mrr_now * %(managed_weight)s
                     * CASE WHEN b.growth_market THEN %(growth_multiplier)s ELSE 1 END
                     AS numeric(60, 40)) / b.amount AS numeric(52, 40)) AS points,
           NULL::numeric AS sold_units
    FROM managed_customers mc
    JOIN billed b ON b.customer_id = mc.customer_id
    UNION ALL
    -- Sold MRR is the growth over the same month a year earlier, never negative, compared in
    -- points (USD-100 units x weight), each month's MRR by its own currency's amount; the
    -- year-ago MRR is recorded in this month's currency, rounded to cents
    -- (`rules.contributing_line`, `rules.mrr_in_currency`).
    SELECT sa.organisation_id, sa.customer_id, sa.product_line_id, sa.kind,
           b.mrr_now,
           CASE WHEN b.currency_then IS NULL THEN 0
                WHEN b.currency_then = b.currency THEN b.mrr_then
                ELSE ROUND(b.mrr_then * b.amount / b.amount_then, 2) END,
           b.currency, b.growth_market,
           CAST(GREATEST(0,
               CAST(b.mrr_now * w.weight AS numeric(60, 40)) / b.amount
               - COALESCE(CAST(b.mrr_then * w.weight AS numeric(60, 40)) / b.amount_then, 0))
               AS numeric(52, 40)),
           -- The same growth in USD-100 units, unweighted: the line's sold MRR, of which
           -- partner matching takes the Partner Sourced share (SPEC 10).
           CAST(GREATEST(0,
               CAST(b.mrr_now AS numeric(60, 40)) / b.amount
               - COALESCE(CAST(b.mrr_then AS numeric(60, 40)) / b.amount_then, 0))
               AS numeric(52, 40))
    FROM sold_associations sa
    JOIN billed b ON b.customer_id = sa.customer_id AND b.product_line_id = sa.product_line_id
    CROSS JOIN LATERAL (
        SELECT CASE sa.kind WHEN '{rules.LineKind.SOURCED.value}' THEN %(sourced_weight)s::numeric
                            ELSE %(assisted_weight)s::numeric END
               * CASE WHEN b.growth_market THEN %(growth_multiplier)s ELSE 1 END AS weight
    ) w
)
SELECT organisation_id,
       COALESCE(SUM(points) FILTER (WHERE kind = '{rules.LineKind.SOURCED.value}'), 0) AS sourced,
       COALESCE(SUM(points) FILTER (WHERE kind = '{rules.LineKind.ASSISTED.value}'), 0) AS assisted,
       COALESCE(SUM(points) FILTER (WHERE kind = '{rules.LineKind.MANAGED.value}'), 0) AS managed,
       COALESCE(SUM(sold_units) FILTER (WHERE kind = '{rules.LineKind.SOURCED.value}'), 0)
           AS sourced_units,
       COALESCE(SUM(sold_units), 0) AS sold_units,
       COUNT(*) AS line_count,
       array_agg(customer_id) AS customer_ids,
       array_agg(product_line_id) AS product_line_ids,
       array_agg(kind) AS kinds,
       array_agg(mrr_this_month) AS mrr_this_month,
       array_agg(mrr_year_ago) AS mrr_year_ago,
       array_agg(currency) AS currencies,
       array_agg(growth_market) AS growth_markets,
       array_agg(points) AS points
FROM lines
GROUP BY organisation_id
"""  # noqa: S608  (built from constants only, never input)

_LZ4_IF_AVAILABLE_SQL = """
SELECT set_config('default_toast_compression', 'lz4', true)
FROM pg_settings
WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
"""

_SUMS_SQL = (
    "SELECT organisation_id, sourced, assisted, managed, sourced_units, sold_units "
    "FROM tiers_run_partners"
)


@dataclass(frozen=True)
class TierRunResult:
    run_id: int
    as_of: date
    rule_set_effective_from: date
    partners_assessed: int
    tier_changes: int


def _require_may_run(actor: User | None) -> None:
    # `None` is the scheduler or an operator command; a person must be allowed by the
    # permission layer (partner ops).
    if actor is not None:
        require(actor, TierAction.RUN)


def _activity_window(as_of: date) -> tuple[datetime, datetime]:
    """Return [start, end) instants of the managed window's calendar days (both inclusive)."""
    tz = timezone.get_default_timezone()
    start = rules.managed_window_start(as_of=as_of)
    return datetime.combine(start, time.min, tzinfo=tz), _day_end(as_of)


def _lines_params(*, as_of: date, rule_set: rules.RuleSet, org_ids: list[int]) -> dict[str, Any]:
    window_start, window_end = _activity_window(as_of)
    weights = rule_set.points_per_usd100
    return {
        "as_of": as_of,
        "month": first_of_month(as_of),
        "year_ago": months_back(as_of, 12),
        "org_ids": array_literal(org_ids),  # one string: 10 000 ids quoted at once
        "eligible_kinds": sorted(rules.ELIGIBLE_ACTIVITY_KINDS),
        "window_start": window_start,
        "window_end": window_end,
        "managed_weight": weights[rules.LineKind.MANAGED],
        "sourced_weight": weights[rules.LineKind.SOURCED],
        "assisted_weight": weights[rules.LineKind.ASSISTED],
        "growth_multiplier": rule_set.growth_multiplier,
    }


def _day_end(day: date) -> datetime:
    """Return the first instant after calendar day `day` (the program's time zone)."""
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
    )


def team_certifications(*, org_ids: list[int], as_of: date) -> dict[int, int]:
    """Return the team certification count of each organisation in `org_ids` on `as_of`: the
    certifications its team holds that day (not expired), counted in one statement over the
    accreditations app's certification table (SPEC 2; Elite needs 100). Organisations
    holding none are absent."""
    counts = accreditation_selectors.team_certifications(org_ids=org_ids, as_of=as_of)
    return {org_id: held.total for org_id, held in counts.items()}


def _retentions(
    *, org_ids: list[int], as_of: date, rule_set: rules.RuleSet
) -> dict[int, rules.Retention]:
    """Return the customer and revenue retention of each organisation's book (SPEC 4, 10).

    The book of each organisation is taken a year before `as_of`: the customers whose lines it
    held by then (sold associations closed by that date) and those it managed then
    (`rules.managed_eligible` on that date); `rules.book_retention` values it from the
    customers' versions (`core.rules.version_for_month`). Three reads for any number of
    organisations; an organisation with no customer to retain a year ago has 0 % retention.
    """
    year_ago = rules.year_earlier(as_of)
    books = selectors.sold_customers(org_ids=org_ids, closed_by=year_ago)
    window_start, window_end = _activity_window(year_ago)
    activities = selectors.activities_between(org_ids=org_ids, start=window_start, end=window_end)
    for (org_id, customer_id), done in activities.items():
        if rules.managed_eligible(activities=done, as_of=year_ago):
            books[org_id].add(customer_id)
    lines = line_versions(
        {customer for book in books.values() for customer in book}, months=(year_ago, as_of)
    )
    by_customer: dict[int, list[list[Version]]] = defaultdict(list)
    for (customer_id, _product_line), versions in lines.items():
        by_customer[customer_id].append(versions)
    return {
        org_id: rules.book_retention(
            book=(by_customer[customer] for customer in sorted(books[org_id])),
            as_of=as_of,
            rule_set=rule_set,
        )
        for org_id in org_ids
    }


def _elite_facts(
    *, org_ids: list[int], as_of: date, rule_set: rules.RuleSet
) -> dict[int, tuple[Decimal, Decimal, int]]:
    """Return (customer retention %, revenue retention %, team certifications) per organisation
    (`_retentions`, `team_certifications`)."""
    retentions = _retentions(org_ids=org_ids, as_of=as_of, rule_set=rule_set)
    certifications = team_certifications(org_ids=org_ids, as_of=as_of)
    return {
        org_id: (
            retentions[org_id].customer_pct,
            retentions[org_id].revenue_pct,
            certifications.get(org_id, 0),
        )
        for org_id in org_ids
    }


def _matching(
    *,
    decisions: Sequence[_Decision],
    sold_units: dict[int, tuple[Decimal, Decimal]],
    as_of: date,
    rule_set: rules.RuleSet,
) -> dict[int, rules.Matching]:
    """Decide partner matching (SPEC 10, `rules.partner_matching`) for a chunk's decisions: two
    reads (certifications by kind, valid accreditations) for the chunk, and the retention
    (three more) only for the partners whose answer depends on it."""
    org_ids = [d.organisation_id for d in decisions]
    team = accreditation_selectors.team_certifications(org_ids=org_ids, as_of=as_of)
    accredited = accreditation_selectors.holders_of_valid_accreditations(
        org_ids=org_ids, as_of=as_of
    )
    none = accreditation_selectors.TeamCertifications()
    profiles: dict[int, rules.MatchingProfile] = {}
    for d in decisions:
        sourced, sold = sold_units.get(d.organisation_id, (Decimal(0), Decimal(0)))
        held = team.get(d.organisation_id, none)
        profiles[d.organisation_id] = rules.MatchingProfile(
            tier=rules.Tier(d.tier_after),
            sourced_sold_units=sourced,
            sold_units=sold,
            has_valid_accreditation=d.organisation_id in accredited,
            software_certifications=held.software,
            implementation_certifications=held.implementation,
            # Already computed for partners meeting the Elite points.
            customer_retention_pct=d.elite.customer_retention_pct if d.elite else None,
        )
    waiting = [
        org_id
        for org_id, profile in profiles.items()
        if rules.needs_matching_retention(profile=profile, rule_set=rule_set)
    ]
    if waiting:
        for org_id, retention in _retentions(
            org_ids=waiting, as_of=as_of, rule_set=rule_set
        ).items():
            profiles[org_id] = replace(
                profiles[org_id], customer_retention_pct=retention.customer_pct
            )
    return {
        org_id: rules.partner_matching(profile=profile, rule_set=rule_set)
        for org_id, profile in profiles.items()
    }


def _compute(
    *, org_ids: list[int], as_of: date, rule_set: rules.RuleSet
) -> tuple[dict[int, rules.Points], dict[int, tuple[Decimal, Decimal]]]:
    """Compute the points and lines of `org_ids` into the temporary table `tiers_run_partners`
    (one statement, no lock: it only reads) and return each organisation's exact sums, and
    its sold MRR in USD-100 units (Partner Sourced, all sold) for partner matching.

    The table lives as long as the database session: the caller drops it (`_drop_computed`).
    An organisation without a line is absent from it, with no points.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # The statement is costed far above what it does, so PostgreSQL would JIT-compile it
        # (seconds at the vendor's scale, more than it saves): off for this transaction.
        cursor.execute("SET LOCAL jit = off")
        # The lines' arrays are compressed as they are built (and stay so when copied into
        # `TierAssessmentLines`): lz4 compresses them in a fraction of pglz's time, where the
        # server has it.
        cursor.execute(_LZ4_IF_AVAILABLE_SQL)
        cursor.execute("DROP TABLE IF EXISTS tiers_run_partners")
        cursor.execute(
            _PARTNERS_SQL, _lines_params(as_of=as_of, rule_set=rule_set, org_ids=org_ids)
        )
        cursor.execute(_SUMS_SQL)
        sums: dict[int, rules.Points] = defaultdict(rules.Points)
        sold_units: dict[int, tuple[Decimal, Decimal]] = {}
        for organisation_id, sourced, assisted, managed, sourced_u, sold_u in cursor.fetchall():
            sums[organisation_id] = rules.Points(
                sourced=sourced, assisted=assisted, managed=managed
            )
            sold_units[organisation_id] = (sourced_u, sold_u)
    return sums, sold_units


def _drop_computed() -> None:
    """Drop `tiers_run_partners`, unless the transaction it may live in has failed (then it
    goes with the rollback)."""
    if connection.in_atomic_block and connection.needs_rollback:
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS tiers_run_partners")


# The chunk's assessments, from the rules' decisions (one array per column, element i being
# organisation i) and the computed sums, in one statement; then their lines, copied from the
# computed table (a partner without a line there has none: empty arrays).
_INSERT_ASSESSMENTS_SQL = """
WITH decided AS (
    SELECT *
    FROM unnest(%(organisation_ids)s::bigint[], %(sourced)s::numeric[], %(assisted)s::numeric[],
                %(managed)s::numeric[], %(total)s::numeric[], %(tier_before)s::varchar[],
                %(qualified_tier)s::varchar[], %(tier_after)s::varchar[], %(at_risk)s::boolean[],
                %(elite_qualified)s::boolean[], %(elite_invited)s::boolean[],
                %(customer_retention_pct)s::numeric[], %(revenue_retention_pct)s::numeric[],
                %(team_certifications)s::integer[], %(matching_eligible)s::boolean[],
                %(matching_gaps)s::text[], %(sourced_share_pct)s::numeric[],
                %(tiers_dropped)s::smallint[])
         AS d(organisation_id, sourced, assisted, managed, total, tier_before, qualified_tier,
              tier_after, at_risk, elite_qualified, elite_invited, customer_retention_pct,
              revenue_retention_pct, team_certifications, matching_eligible, matching_gaps,
              sourced_share_pct, tiers_dropped)
)
INSERT INTO tiers_tierassessment
    (organisation_id, as_of, rule_set_id, sourced_points, assisted_points, managed_points,
     total_points, sold_source, tier_before, qualified_tier, tier_after, at_risk,
     elite_qualified, elite_invited, customer_retention_pct, revenue_retention_pct,
     team_certifications, matching_eligible, matching_gaps, sourced_share_pct, tiers_dropped,
     created_at)
SELECT organisation_id, %(as_of)s, %(rule_set_id)s, sourced, assisted, managed, total,
       %(sold_source)s, tier_before, qualified_tier, tier_after, at_risk, elite_qualified,
       elite_invited, customer_retention_pct, revenue_retention_pct, team_certifications,
       matching_eligible, string_to_array(matching_gaps, ','), sourced_share_pct,
       tiers_dropped, %(created_at)s
FROM decided
RETURNING id, organisation_id
"""

_COPY_LINES_SQL = """
INSERT INTO tiers_tierassessmentlines
    (assessment_id, count, customer_ids, product_line_ids, kinds, mrr_this_month, mrr_year_ago,
     currencies, growth_markets, points)
SELECT a.id, COALESCE(p.line_count, 0), COALESCE(p.customer_ids, '{}'),
       COALESCE(p.product_line_ids, '{}'), COALESCE(p.kinds, '{}'),
       COALESCE(p.mrr_this_month, '{}'), COALESCE(p.mrr_year_ago, '{}'),
       COALESCE(p.currencies, '{}'), COALESCE(p.growth_markets, '{}'),
       COALESCE(p.points, '{}')
FROM unnest(%(assessment_ids)s::bigint[]) AS i(id)
JOIN tiers_tierassessment a ON a.id = i.id
LEFT JOIN tiers_run_partners p ON p.organisation_id = a.organisation_id
"""


@dataclass(frozen=True)
class _Decision:
    """What the rules decided for one organisation of a chunk."""

    organisation_id: int
    points: rules.Points
    tier_before: str
    qualified_tier: str
    tier_after: str
    at_risk: bool
    elite_qualified: bool
    elite_invited: bool
    elite: rules.EliteStanding | None
    tiers_dropped: int = 0


def _assess_chunk(
    *,
    organisations: Sequence[dict[str, Any]],
    sums: dict[int, rules.Points],
    sold_units: dict[int, tuple[Decimal, Decimal]] | None = None,
    as_of: date,
    rule_set_pk: int,
    rule_set: rules.RuleSet,
    actor: User | None,
    actor_label: str | None = None,
) -> tuple[int, int]:
    """Assess `organisations` (rows locked by the caller, computed by `_compute`); return
    (assessed, tier changes)."""
    # Retention and certifications matter only to partners meeting the Elite points: compute
    # them for those alone (rarely any), in a few queries whatever their number.
    elite_ids = [
        org["pk"]
        for org in organisations
        if rules.elite_qualified(points=sums[org["pk"]], rule_set=rule_set)
    ]
    elite_facts = (
        _elite_facts(org_ids=elite_ids, as_of=as_of, rule_set=rule_set) if elite_ids else {}
    )

    # Tier-drop consequences in effect on the run date (escalations, SPEC 10): one read.
    drops = escalation_selectors.tier_drops(
        organisation_ids=[org["pk"] for org in organisations], as_of=as_of
    )
    decisions: list[_Decision] = []
    for org in organisations:
        points = sums[org["pk"]]
        facts = elite_facts.get(org["pk"])
        elite = (
            rules.EliteStanding(
                invited=org["elite_invited"],
                customer_retention_pct=facts[0],
                revenue_retention_pct=facts[1],
                team_certifications=facts[2],
            )
            if facts is not None
            else None
        )
        outcome = rules.assess_tier(
            points=points,
            org_kind=rules.OrgKind.PARTNER,
            prerequisites_met=rules.meets_prerequisites(
                has_partner_certification=org["has_partner_certification"],
                has_pro_subscription=org["has_pro_subscription"],
            ),
            current_tier=rules.Tier(org["tier"]),
            run_date=as_of,
            rule_set=rule_set,
            # None below the Elite points, where the rules never consult it.
            elite=elite,
            tiers_dropped=drops.get(org["pk"], 0),
        )
        if outcome.tier is None or outcome.qualified_tier is None:
            raise AssertionError("the rules give every partner a tier")
        decisions.append(
            _Decision(
                organisation_id=org["pk"],
                points=points,
                tier_before=org["tier"],
                qualified_tier=outcome.qualified_tier.value,
                tier_after=outcome.tier.value,
                at_risk=outcome.at_risk,
                elite_qualified=outcome.elite_qualified,
                elite_invited=org["elite_invited"],
                elite=elite,
                tiers_dropped=drops.get(org["pk"], 0),
            )
        )

    matching = _matching(
        decisions=decisions, sold_units=sold_units or {}, as_of=as_of, rule_set=rule_set
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_ASSESSMENTS_SQL,
            {
                "organisation_ids": array_literal(d.organisation_id for d in decisions),
                "sourced": array_literal(rules.settle_points(d.points.sourced) for d in decisions),
                "assisted": array_literal(
                    rules.settle_points(d.points.assisted) for d in decisions
                ),
                "managed": array_literal(rules.settle_points(d.points.managed) for d in decisions),
                "total": array_literal(rules.settle_points(d.points.total) for d in decisions),
                "tier_before": array_literal(d.tier_before for d in decisions),
                "qualified_tier": array_literal(d.qualified_tier for d in decisions),
                "tier_after": array_literal(d.tier_after for d in decisions),
                "at_risk": array_literal(d.at_risk for d in decisions),
                "elite_qualified": array_literal(d.elite_qualified for d in decisions),
                "elite_invited": array_literal(d.elite_invited for d in decisions),
                "customer_retention_pct": array_literal(
                    d.elite.customer_retention_pct if d.elite else None for d in decisions
                ),
                "revenue_retention_pct": array_literal(
                    d.elite.revenue_retention_pct if d.elite else None for d in decisions
                ),
                "team_certifications": array_literal(
                    d.elite.team_certifications if d.elite else None for d in decisions
                ),
                "matching_eligible": array_literal(
                    matching[d.organisation_id].eligible for d in decisions
                ),
                "matching_gaps": array_literal(
                    ",".join(matching[d.organisation_id].gaps) for d in decisions
                ),
                "sourced_share_pct": array_literal(
                    matching[d.organisation_id].sourced_share_pct for d in decisions
                ),
                "tiers_dropped": array_literal(d.tiers_dropped for d in decisions),
                "as_of": as_of,
                "rule_set_id": rule_set_pk,
                "sold_source": SOLD_SOURCE,
                "created_at": timezone.now(),
            },
        )
        assessment_ids = {org_id: pk for pk, org_id in cursor.fetchall()}
        cursor.execute(_COPY_LINES_SQL, {"assessment_ids": array_literal(assessment_ids.values())})

    changed = [d for d in decisions if d.tier_after != d.tier_before]
    if changed:
        by_tier: dict[str, list[int]] = defaultdict(list)
        for d in changed:
            by_tier[d.tier_after].append(d.organisation_id)
        Organisation.objects.filter(pk__in=[d.organisation_id for d in changed]).update(
            tier=Case(*(When(pk__in=ids, then=Value(tier)) for tier, ids in by_tier.items()))
        )
        audit_many(
            actor=actor,
            actor_label=actor_label,
            verb="tiers.partner.retiered",
            events=[
                Audited(
                    subject=TierAssessment(pk=assessment_ids[d.organisation_id]),
                    organisation=Organisation(pk=d.organisation_id),
                    data={
                        "as_of": as_of.isoformat(),
                        "from": d.tier_before,
                        "to": d.tier_after,
                        "qualified_tier": d.qualified_tier,
                        "tiers_dropped": d.tiers_dropped,
                        "total_points": str(rules.settle_points(d.points.total)),
                    },
                )
                for d in changed
            ],
        )
    return len(decisions), len(changed)


def tier_run(
    *,
    as_of: date,
    actor: User | None,
    trigger: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> TierRunResult:
    """Assess every partner without an assessment for `as_of`, and re-tier them.

    Idempotent: partners already assessed for `as_of` are left as they are, so running a
    date again completes a crashed run and assesses partners created since. Each chunk of
    `chunk_size` organisations commits on its own. `trigger` is a `TierRun.Trigger` (default:
    the API for a person, the operator command for `actor=None`). Refuses a date after today
    (the process clock): its assessments would be final before its data exists.
    """
    _require_may_run(actor)
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    today = timezone.localdate()
    if as_of > today:
        raise InvalidInput(
            f"{as_of.isoformat()} is in the future (today is {today.isoformat()}).",
            field="as_of",
            rule=rules.Refusal.RUN_DATE_IN_FUTURE,
        )
    in_force = rule_set_in_force(on=as_of)
    trigger = trigger or (TierRun.Trigger.API if actor else TierRun.Trigger.COMMAND)
    # Who the audit trail names when no person asked: the schedule or an operator.
    actor_label = None
    if actor is None:
        actor_label = "scheduler" if trigger == TierRun.Trigger.SCHEDULE else "operator"
    with transaction.atomic():
        # Committed before the first chunk, so a run that stops midway is on record.
        run = TierRun.objects.create(
            as_of=as_of,
            trigger=trigger,
            requested_by=actor,
            rule_set_id=in_force.pk,
            started_at=timezone.now(),
        )
    # An invitation counts from the day partner ops made it (so re-running an earlier date
    # gives the same answer as the run of that date did).
    invited_by_end_of_day = Exists(
        EliteInvitation.objects.filter(organisation=OuterRef("pk"), invited_at__lt=_day_end(as_of))
    )
    # Providers have no tier (SPEC 2).
    pending = Organisation.objects.filter(kind=Organisation.Kind.PARTNER).exclude(
        tier_assessments__as_of=as_of
    )
    assessed = changes = 0
    try:
        while True:
            # Every partner still without an assessment for the date, computed at once;
            # those created while a pass runs are found by the next pass.
            org_ids = list(pending.order_by("pk").values_list("pk", flat=True))
            if not org_ids:
                break
            sums, sold_units = _compute(org_ids=org_ids, as_of=as_of, rule_set=in_force.rule_set)
            for start in range(0, len(org_ids), chunk_size):
                with transaction.atomic():
                    # Serialise runs of one date, so two workers never assess the same
                    # partner (the unique constraint would refuse it; this avoids the
                    # failed chunk).
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(hashtext('tiers.tier_run'), %s)",
                            [as_of.toordinal()],
                        )
                    # Locked in primary-key order so that a concurrent tier change cannot
                    # slip between tier_before and the update; a partner another run has
                    # assessed meanwhile is left to it.
                    organisations = list(
                        pending.select_for_update(of=("self",))
                        .filter(pk__in=org_ids[start : start + chunk_size])
                        .annotate(elite_invited=invited_by_end_of_day)
                        .order_by("pk")
                        .values(
                            "pk",
                            "tier",
                            "has_partner_certification",
                            "has_pro_subscription",
                            "elite_invited",
                        )
                    )
                    if not organisations:
                        continue
                    chunk_assessed, chunk_changes = _assess_chunk(
                        organisations=organisations,
                        sums=sums,
                        sold_units=sold_units,
                        as_of=as_of,
                        rule_set_pk=in_force.pk,
                        rule_set=in_force.rule_set,
                        actor=actor,
                        actor_label=actor_label,
                    )
                    assessed += chunk_assessed
                    changes += chunk_changes
    finally:
        _drop_computed()
    with transaction.atomic():
        TierRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), partners_assessed=assessed, tier_changes=changes
        )
        # A run that found everyone assessed changed nothing, and records nothing more.
        if assessed:
            audit(
                actor=actor,
                actor_label=actor_label,
                verb="tiers.run.completed",
                subject=run,
                data={
                    "as_of": as_of.isoformat(),
                    "rule_set_effective_from": in_force.rule_set.effective_from.isoformat(),
                    "partners_assessed": assessed,
                    "tier_changes": changes,
                    "sold_source": SOLD_SOURCE,
                    "trigger": trigger,
                },
            )
    return TierRunResult(
        run_id=run.pk,
        as_of=as_of,
        rule_set_effective_from=in_force.rule_set.effective_from,
        partners_assessed=assessed,
        tier_changes=changes,
    )


@transaction.atomic
def elite_invite(
    *, actor: User, organisation: Organisation, reason: str
) -> tuple[EliteInvitation, bool]:
    """Invite a partner to Elite (partner ops); return (the invitation, whether it is new).

    Inviting a partner already invited changes nothing and returns its invitation. The
    partner becomes Elite at the first run that also finds the Elite points, retention and
    certifications (SPEC 4).
    """
    require(actor, TierAction.ELITE_INVITE, organisation)
    if organisation.kind != Organisation.Kind.PARTNER:
        raise InvalidInput(
            "Providers have no tier and cannot be Elite.",
            field="partner",
            rule=rules.Refusal.PROVIDER_HAS_NO_TIER,
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why this partner is invited.", field="reason")
    # Serialise invitations of one partner, so two at once make one invitation.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    existing = EliteInvitation.objects.filter(organisation=organisation).first()
    if existing is not None:
        return existing, False
    invitation = EliteInvitation.objects.create(
        organisation=organisation, invited_by=actor, reason=reason
    )
    latest = (
        TierAssessment.objects.filter(organisation=organisation)
        .order_by("-as_of")
        .values("as_of", "elite_qualified")
        .first()
    )
    audit(
        actor=actor,
        verb="tiers.elite.invited",
        subject=invitation,
        organisation=organisation,
        reason=reason,
        data={
            "latest_assessment": latest["as_of"].isoformat() if latest else None,
            "elite_qualified": latest["elite_qualified"] if latest else None,
        },
    )
    return invitation, True


# --- Rule sets (partner ops, through the admin) ------------------------------------------------

#: The numbers of a rule set row that `RuleSetInput` carries, in audit order.
_RULE_SET_FIELDS = (
    "effective_from",
    "sold_min_sourced_only",
    "sourced_points",
    "assisted_points",
    "managed_points",
    "growth_multiplier",
    "pro_subscription_min_usd",
    "elite_min_customer_retention_pct",
    "elite_min_revenue_retention_pct",
    "elite_min_team_certifications",
    "matching_min_sourced_share_pct",
    "matching_min_customer_retention_pct",
    "matching_min_tier",
)


def _as_rule_set(data: RuleSetInput, *, usd100_amounts: dict[str, Decimal]) -> rules.RuleSet:
    """The pure rule set `data` describes; its construction refuses an incomplete one."""
    return rules.RuleSet(
        effective_from=data.effective_from,
        targets=tuple(
            rules.TierTarget(
                tier=t.tier, sold_min=t.sold_min, managed_min=t.managed_min, total_min=t.total_min
            )
            for t in data.targets
        ),
        usd100_amounts=usd100_amounts,
        points_per_usd100={
            rules.LineKind.SOURCED: data.sourced_points,
            rules.LineKind.ASSISTED: data.assisted_points,
            rules.LineKind.MANAGED: data.managed_points,
        },
        growth_multiplier=data.growth_multiplier,
        sold_min_sourced_only=data.sold_min_sourced_only,
        pro_subscription_min_usd=data.pro_subscription_min_usd,
        elite_min_customer_retention_pct=data.elite_min_customer_retention_pct,
        elite_min_revenue_retention_pct=data.elite_min_revenue_retention_pct,
        elite_min_team_certifications=data.elite_min_team_certifications,
        matching_min_sourced_share_pct=data.matching_min_sourced_share_pct,
        matching_min_customer_retention_pct=data.matching_min_customer_retention_pct,
        matching_min_tier=data.matching_min_tier,
    )


def _audited(value: object) -> object:
    """A rule-set value as the audit trail stores it (JSON: dates and decimals as text)."""
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def rule_set_save(
    *, actor: User, data: RuleSetInput, rule_set: TierRuleSet | None = None
) -> TierRuleSet:
    """Add a tier rule set (next program year's targets, without a deploy), or change
    `rule_set` while no assessment was made under it (partner ops; SPEC 4).

    Validated by the pure rules (`rules.RuleSet`: one target per tier, weights for every
    kind), written with its targets and audited, in one transaction. A rule set assessments
    were made under is history: changing it is a `StateConflict` (add a new one instead).
    """
    require(actor, TierAction.RULE_SET_EDIT)
    _as_rule_set(data, usd100_amounts=selectors.usd100_amounts())
    clash = TierRuleSet.objects.filter(effective_from=data.effective_from)
    if rule_set is not None:
        # Serialise edits of one rule set with runs that would start using it.
        TierRuleSet.objects.select_for_update().filter(pk=rule_set.pk).first()
        if TierAssessment.objects.filter(rule_set=rule_set).exists():
            raise StateConflict(
                f"Assessments were made under the rule set of {rule_set.effective_from}: it is "
                "history and cannot change. Add a rule set with a later date instead."
            )
        clash = clash.exclude(pk=rule_set.pk)
    if clash.exists():
        raise InvalidInput(
            f"A rule set already takes effect on {data.effective_from.isoformat()}.",
            field="effective_from",
        )
    before = (
        {name: _audited(getattr(rule_set, name)) for name in _RULE_SET_FIELDS}
        if rule_set is not None
        else None
    )
    row = rule_set or TierRuleSet()
    for name in _RULE_SET_FIELDS:
        value = getattr(data, name)
        setattr(row, name, value.value if isinstance(value, rules.Tier) else value)
    row.save()
    TierTarget.objects.filter(rule_set=row).delete()
    TierTarget.objects.bulk_create(
        TierTarget(
            rule_set=row,
            tier=t.tier.value,
            sold_min=t.sold_min,
            managed_min=t.managed_min,
            total_min=t.total_min,
        )
        for t in data.targets
    )
    audit(
        actor=actor,
        verb="tiers.rule_set.changed" if before is not None else "tiers.rule_set.added",
        subject=row,
        data={
            **{name: _audited(getattr(data, name)) for name in _RULE_SET_FIELDS},
            "targets": {
                t.tier.value: {
                    "sold_min": str(t.sold_min),
                    "managed_min": str(t.managed_min),
                    "total_min": str(t.total_min),
                }
                for t in sorted(data.targets, key=lambda t: t.tier)
            },
            **({"before": before} if before is not None else {}),
        },
    )
    return row
