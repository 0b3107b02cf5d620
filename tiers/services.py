"""Writes of the tier engine: the monthly re-tiering run (SPEC 4).

A run for date D assesses, chunk by chunk, every partner organisation that has no assessment
for D yet. Per chunk, in one transaction and with a constant number of statements whatever
the chunk size:

1. lock the run date (advisory lock) and the chunk's organisations (primary-key order);
2. compute every contributing line of the chunk in one SQL statement into a temporary table
   (managed lines from activities and subscriptions; sold lines from sold associations);
3. sum points by organisation and kind in SQL;
4. apply the pure rules (`rules.assess_tier`) to each organisation's three sums;
5. insert the assessments, copy the lines from the temporary table, update the tiers that
   changed in one UPDATE, and audit each tier change.

A crashed run leaves whole chunks behind it; running the date again assesses only the
partners still without an assessment (the unique constraint on (organisation, as_of) backs
this up), so it completes the run and changes nothing already written.

Sold points come from the deals app's sold associations (`deals.SoldAssociation`: which
partner holds which customer's product line, as Partner Sourced or Partner Assisted), read by
`SOLD_ASSOCIATIONS_SQL`. Assessments made before they existed say so
(`sold_source = not_yet_recorded`); every run now records `associations`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, OuterRef, Value, When
from django.utils import timezone

from deals.models import Motion, SoldAssociation
from partnerportal.core.access import Action, require
from partnerportal.core.audit import audit
from partnerportal.core.models import Organisation, User

from . import rules
from .models import EliteInvitation, SoldSource, TierAssessment, TierRun
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

# Every contributing line of the chunk's organisations as of the run date. Money is exact:
# a line's points are MRR x weight x growth multiplier / the currency's USD-100 amount,
# dividing last (as `rules.line_points` does) at 40 decimal places, which is far finer than
# the 1e-12 resolution at which the rules compare points.
_LINES_SQL = """
CREATE TEMPORARY TABLE tiers_run_lines ON COMMIT DROP AS
WITH
-- NOT MATERIALIZED: inlined, the planner reaches the chunk's lines through the indexes
-- instead of building every line of every customer, chunk after chunk.
month_lines AS NOT MATERIALIZED (
    -- MRR for a month is the version in effect on its first day (SPEC 3).
    SELECT s.customer_id, s.product_line_id, v.mrr, v.currency_id
    FROM core_subscriptionversion v
    JOIN core_subscription s ON s.id = v.subscription_id
    WHERE v.effective_from <= %(month)s
      AND (v.effective_until IS NULL OR v.effective_until > %(month)s)
),
year_ago_lines AS NOT MATERIALIZED (
    SELECT s.customer_id, s.product_line_id, v.mrr, v.currency_id
    FROM core_subscriptionversion v
    JOIN core_subscription s ON s.id = v.subscription_id
    WHERE v.effective_from <= %(year_ago)s
      AND (v.effective_until IS NULL OR v.effective_until > %(year_ago)s)
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
    {sold_associations}
),
lines AS (
    SELECT mc.organisation_id, mc.customer_id, ml.product_line_id,
           'managed'::varchar AS kind,
           ml.mrr AS mrr_this_month, NULL::numeric AS mrr_year_ago,
           ml.currency_id AS currency, co.growth_market,
           CAST(ml.mrr * %(managed_weight)s
                * CASE WHEN co.growth_market THEN %(growth_multiplier)s ELSE 1 END
                AS numeric(60, 40)) / cur.points_amount AS points
    FROM managed_customers mc
    JOIN month_lines ml ON ml.customer_id = mc.customer_id
    JOIN core_customer c ON c.id = mc.customer_id
    JOIN core_country co ON co.code = c.country_id
    JOIN core_currency cur ON cur.code = ml.currency_id
    WHERE ml.mrr > 0
    UNION ALL
    -- Sold MRR is the growth over the same month a year earlier, never negative. A line
    -- billed in another currency a year ago is compared in USD-100 units.
    SELECT sa.organisation_id, sa.customer_id, sa.product_line_id, sa.kind,
           ml.mrr,
           CASE WHEN ya.currency_id IS NULL THEN 0
                WHEN ya.currency_id = ml.currency_id THEN ya.mrr
                ELSE ROUND(ya.mrr * cur.points_amount / ya_cur.points_amount, 2) END,
           ml.currency_id, co.growth_market,
           GREATEST(0,
               CAST(ml.mrr * w.weight * CASE WHEN co.growth_market
                                             THEN %(growth_multiplier)s ELSE 1 END
                    AS numeric(60, 40)) / cur.points_amount
               - CASE WHEN ya.currency_id IS NULL THEN 0
                      ELSE CAST(ya.mrr * w.weight * CASE WHEN co.growth_market
                                                       THEN %(growth_multiplier)s ELSE 1 END
                                AS numeric(60, 40)) / ya_cur.points_amount END)
    FROM sold_associations sa
    JOIN (VALUES ('sourced', %(sourced_weight)s::numeric),
                 ('assisted', %(assisted_weight)s::numeric)) AS w(kind, weight)
         ON w.kind = sa.kind
    JOIN month_lines ml
         ON ml.customer_id = sa.customer_id AND ml.product_line_id = sa.product_line_id
    LEFT JOIN year_ago_lines ya
         ON ya.customer_id = sa.customer_id AND ya.product_line_id = sa.product_line_id
    LEFT JOIN core_currency ya_cur ON ya_cur.code = ya.currency_id
    JOIN core_customer c ON c.id = sa.customer_id
    JOIN core_country co ON co.code = c.country_id
    JOIN core_currency cur ON cur.code = ml.currency_id
    WHERE sa.organisation_id = ANY(%(org_ids)s::bigint[]) AND ml.mrr > 0
)
SELECT organisation_id, customer_id, product_line_id, kind, mrr_this_month,
       mrr_year_ago, currency, growth_market, CAST(points AS numeric(52, 40)) AS points
FROM lines
"""

_SUMS_SQL = """
SELECT organisation_id, kind, SUM(points)
FROM tiers_run_lines
GROUP BY organisation_id, kind
"""

_COPY_LINES_SQL = """
INSERT INTO tiers_tierassessmentline
    (assessment_id, customer_id, product_line_id, kind, mrr_this_month, mrr_year_ago,
     currency, growth_market, points)
SELECT a.id, l.customer_id, l.product_line_id, l.kind, l.mrr_this_month, l.mrr_year_ago,
       l.currency, l.growth_market, l.points
FROM tiers_run_lines l
JOIN tiers_tierassessment a ON a.organisation_id = l.organisation_id
WHERE a.id = ANY(%(assessment_ids)s)
"""


# The Elite retention figures (SPEC 4) of some organisations, over their book of customers a
# year before the run date: the customers whose lines they held by then (sold associations
# closed by that date) and those they managed then (eligible activity in the 60 days up to
# it), counting only customers billed in that month. Customer retention: how many of those
# are still billed in the run's month. Revenue retention: their total MRR (all lines) in the
# run's month over that month a year earlier, in USD-100 units, so net of expansion.
_RETENTION_SQL = f"""
WITH
book AS (
    SELECT sa.organisation_id, sa.customer_id
    FROM {SoldAssociation._meta.db_table} sa
    WHERE sa.organisation_id = ANY(%(org_ids)s::bigint[]) AND sa.close_date <= %(year_ago)s
    UNION
    SELECT a.organisation_id, a.customer_id
    FROM core_activity a
    WHERE a.organisation_id = ANY(%(org_ids)s::bigint[])
      AND a.kind = ANY(%(eligible_kinds)s)
      AND a.occurred_at >= %(window_start)s
      AND a.occurred_at < %(window_end)s
),
customer_units AS (
    SELECT s.customer_id,
           SUM(CASE WHEN v.effective_from <= %(then_month)s
                     AND (v.effective_until IS NULL OR v.effective_until > %(then_month)s)
                    THEN CAST(v.mrr AS numeric(60, 40)) / cur.points_amount ELSE 0 END)
               AS units_then,
           SUM(CASE WHEN v.effective_from <= %(now_month)s
                     AND (v.effective_until IS NULL OR v.effective_until > %(now_month)s)
                    THEN CAST(v.mrr AS numeric(60, 40)) / cur.points_amount ELSE 0 END)
               AS units_now
    FROM core_subscription s
    JOIN core_subscriptionversion v ON v.subscription_id = s.id
    JOIN core_currency cur ON cur.code = v.currency_id
    WHERE s.customer_id IN (SELECT customer_id FROM book)
    GROUP BY s.customer_id
)
SELECT b.organisation_id,
       COUNT(*) AS customers_then,
       COUNT(*) FILTER (WHERE u.units_now > 0) AS customers_kept,
       SUM(u.units_then) AS units_then,
       SUM(u.units_now) AS units_now
FROM book b
JOIN customer_units u ON u.customer_id = b.customer_id
WHERE u.units_then > 0
GROUP BY b.organisation_id
"""  # noqa: S608  (built from constants only, never input)


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
        require(actor, Action.TIER_RUN)


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
        "month": rules.month_start(as_of),
        "year_ago": date(as_of.year - 1, as_of.month, 1),
        "org_ids": org_ids,
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
    """Return the team certification count of each organisation in `org_ids` on `as_of`.

    There is no certification record yet: the accreditations capability adds it (SPEC 2, 8).
    Until then every partner holds 0, short of SPEC's 100, so nobody is Elite yet; assessments
    record the 0 they were judged on. Replace this one function's body with a
    count over the certification table (one statement) when it lands.
    """
    return {}


def _elite_facts(*, org_ids: list[int], as_of: date) -> dict[int, tuple[Decimal, Decimal, int]]:
    """Return (customer retention %, revenue retention %, team certifications) per organisation.

    One statement for any number of organisations. An organisation with no customer to
    retain a year ago has 0 % retention (see `rules.retention_pct`).
    """
    year_ago = rules.year_earlier(as_of)
    window_start, window_end = _activity_window(year_ago)
    with connection.cursor() as cursor:
        cursor.execute(
            _RETENTION_SQL,
            {
                "org_ids": org_ids,
                "year_ago": year_ago,
                "eligible_kinds": sorted(rules.ELIGIBLE_ACTIVITY_KINDS),
                "window_start": window_start,
                "window_end": window_end,
                "then_month": rules.month_start(year_ago),
                "now_month": rules.month_start(as_of),
            },
        )
        figures = {row[0]: row[1:] for row in cursor.fetchall()}
    certifications = team_certifications(org_ids=org_ids, as_of=as_of)
    facts = {}
    for org_id in org_ids:
        customers_then, customers_kept, units_then, units_now = figures.get(org_id, (0, 0, 0, 0))
        facts[org_id] = (
            rules.retention_pct(kept=customers_kept, base=customers_then),
            rules.retention_pct(kept=units_now, base=units_then),
            certifications.get(org_id, 0),
        )
    return facts


def _assess_chunk(
    *,
    organisations: Sequence[Organisation],
    as_of: date,
    rule_set_pk: int,
    rule_set: rules.RuleSet,
    actor: User | None,
    actor_label: str | None = None,
) -> tuple[int, int]:
    """Assess `organisations` (locked by the caller); return (assessed, tier changes)."""
    org_ids = [org.pk for org in organisations]
    with connection.cursor() as cursor:
        # The lines statement is costed far above what it does, so PostgreSQL JIT-compiles it
        # (2-3 s a chunk at 10 000 partners, more than it saves): off for this transaction.
        cursor.execute("SET LOCAL jit = off")
        # A previous chunk of this transaction (nested in a caller's transaction) may have
        # left the table: ON COMMIT DROP only fires on a real commit.
        cursor.execute("DROP TABLE IF EXISTS tiers_run_lines")
        cursor.execute(
            # Module constants, never input.
            _LINES_SQL.format(sold_associations=SOLD_ASSOCIATIONS_SQL),
            _lines_params(as_of=as_of, rule_set=rule_set, org_ids=org_ids),
        )
        cursor.execute(_SUMS_SQL)
        sums: dict[int, rules.Points] = defaultdict(rules.Points)
        for organisation_id, kind, points in cursor.fetchall():
            sums[organisation_id] = sums[organisation_id].plus(kind=kind, points=points)

    # Retention and certifications matter only to partners meeting the Elite points: compute
    # them for those alone (rarely any), in one statement.
    elite_ids = [
        org.pk
        for org in organisations
        if rules.elite_qualified(points=sums[org.pk], rule_set=rule_set)
    ]
    elite_facts = _elite_facts(org_ids=elite_ids, as_of=as_of) if elite_ids else {}

    assessments: list[TierAssessment] = []
    for org in organisations:
        points = sums[org.pk]
        invited: bool = org.elite_invited  # type: ignore[attr-defined]  # annotated by tier_run
        facts = elite_facts.get(org.pk)
        elite = (
            rules.EliteStanding(
                invited=invited,
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
                has_partner_certification=org.has_partner_certification,
                has_pro_subscription=org.has_pro_subscription,
            ),
            current_tier=rules.Tier(org.tier),
            run_date=as_of,
            rule_set=rule_set,
            # None below the Elite points, where the rules never consult it.
            elite=elite,
        )
        if outcome.tier is None or outcome.qualified_tier is None:
            raise AssertionError("the rules give every partner a tier")
        assessments.append(
            TierAssessment(
                organisation=org,
                as_of=as_of,
                rule_set_id=rule_set_pk,
                sourced_points=rules.settle_points(points.sourced),
                assisted_points=rules.settle_points(points.assisted),
                managed_points=rules.settle_points(points.managed),
                total_points=rules.settle_points(points.total),
                sold_source=SOLD_SOURCE,
                tier_before=org.tier,
                qualified_tier=outcome.qualified_tier.value,
                tier_after=outcome.tier.value,
                at_risk=outcome.at_risk,
                elite_qualified=outcome.elite_qualified,
                elite_invited=invited,
                customer_retention_pct=elite.customer_retention_pct if elite else None,
                revenue_retention_pct=elite.revenue_retention_pct if elite else None,
                team_certifications=elite.team_certifications if elite else None,
            )
        )
    created = TierAssessment.objects.bulk_create(assessments)

    with connection.cursor() as cursor:
        cursor.execute(_COPY_LINES_SQL, {"assessment_ids": [a.pk for a in created]})
        cursor.execute("DROP TABLE tiers_run_lines")

    changed = [a for a in created if a.tier_after != a.tier_before]
    if changed:
        by_tier: dict[str, list[int]] = defaultdict(list)
        for a in changed:
            by_tier[a.tier_after].append(a.organisation_id)
        Organisation.objects.filter(pk__in=[a.organisation_id for a in changed]).update(
            tier=Case(*(When(pk__in=ids, then=Value(tier)) for tier, ids in by_tier.items()))
        )
    for a in changed:
        audit(
            actor=actor,
            actor_label=actor_label,
            verb="tiers.partner.retiered",
            subject=a,
            organisation=a.organisation,
            data={
                "as_of": as_of.isoformat(),
                "from": a.tier_before,
                "to": a.tier_after,
                "qualified_tier": a.qualified_tier,
                "total_points": str(a.total_points),
            },
        )
    return len(created), len(changed)


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
        raise ValidationError(
            {"as_of": [f"{as_of.isoformat()} is in the future (today is {today.isoformat()})."]}
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
    assessed = changes = 0
    while True:
        with transaction.atomic():
            # Serialise runs of one date, so two workers never assess the same partner
            # (the unique constraint would refuse it; this avoids the failed chunk).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('tiers.tier_run'), %s)",
                    [as_of.toordinal()],
                )
            # Providers have no tier (SPEC 2). Locked in primary-key order so that a
            # concurrent tier change cannot slip between tier_before and the update.
            organisations = list(
                Organisation.objects.select_for_update(of=("self",))
                .filter(kind=Organisation.Kind.PARTNER)
                .exclude(tier_assessments__as_of=as_of)
                .annotate(elite_invited=invited_by_end_of_day)
                .order_by("pk")[:chunk_size]
            )
            if not organisations:
                break
            chunk_assessed, chunk_changes = _assess_chunk(
                organisations=organisations,
                as_of=as_of,
                rule_set_pk=in_force.pk,
                rule_set=in_force.rule_set,
                actor=actor,
                actor_label=actor_label,
            )
            assessed += chunk_assessed
            changes += chunk_changes
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
    require(actor, Action.ELITE_INVITE, organisation)
    if organisation.kind != Organisation.Kind.PARTNER:
        raise ValidationError({"partner": ["Providers have no tier and cannot be Elite."]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this partner is invited."]})
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
