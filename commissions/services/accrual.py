"""Writes of commissions (SPEC 7): entitlements when a deal is credited, and the monthly
accrual run. Each service checks permission, validates, writes and audits in one transaction;
the decisions are the pure functions of `commissions.rules`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from deals.models import Deal, Motion, SoldAssociation
from partnerportal.core import access
from partnerportal.core.audit import Audited, audit, audit_many
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import Organisation, User
from partnerportal.core.rules import first_of_month

from .. import rules, selectors
from ..models import AccrualRun, Entitlement
from ..permissions import CommissionAction

# --- Entitlements -----------------------------------------------------------------------------


def on_deal_credited(
    sender: type[Deal],
    *,
    deal: Deal,
    associations: Sequence[SoldAssociation],
    actor: User | None = None,
    **_: Any,
) -> None:
    """Receiver of deals' `deal_credited` (connected in `CommissionsConfig.ready`): runs in the
    crediting transaction, so the entitlements commit with the associations."""
    entitlements_for_deal(deal=deal, associations=associations, actor=actor)


@transaction.atomic
def entitlements_for_deal(
    *, deal: Deal, associations: Sequence[SoldAssociation], actor: User | None
) -> list[Entitlement]:
    """Create the entitlements the winner earns on the associations just granted (SPEC 7),
    decided by `rules.entitlement_terms` on the winner as it stands at the close."""
    if not associations or deal.close_date is None:
        return []
    organisation = Organisation.objects.get(pk=associations[0].organisation_id)
    motion = associations[0].kind
    purchased = {
        line.product_line_id: line
        for line in deal.purchased_lines.filter(
            product_line__in=[a.product_line_id for a in associations]
        )
    }
    winner = rules.Winner(
        motion=motion,
        is_provider=organisation.kind == Organisation.Kind.PROVIDER,
        tier=organisation.tier,
        standing=organisation.standing,
        country=organisation.country_id,
        crm_accredited=motion == Motion.PARTNER_ASSISTED
        and selectors.crm_accredited(organisation_id=organisation.pk, on=deal.close_date),
    )
    lines = [
        rules.ClosedLine(
            product_line=a.product_line_id,
            edition=purchased[a.product_line_id].edition_id
            if a.product_line_id in purchased
            else None,
            mrr=a.mrr_at_close,
            currency=a.currency_id,
        )
        for a in associations
    ]
    terms = rules.entitlement_terms(
        winner=winner,
        lines=lines,
        close_date=deal.close_date,
        usd100_amounts=selectors.usd100_amounts(),
        thresholds=selectors.thresholds(),
        exempt_countries=selectors.exempt_countries(),
    )
    by_line = {a.product_line_id: a for a in associations}
    created = Entitlement.objects.bulk_create(
        Entitlement(
            association=by_line[t.product_line],
            organisation=organisation,
            customer_id=deal.customer_id,
            product_line_id=t.product_line,
            deal=deal,
            program=t.program.value,
            months=t.months,
            close_date=deal.close_date,
        )
        for t in terms
    )
    if created:
        audit(
            actor=actor,
            verb="commissions.entitlements.created",
            subject=deal,
            organisation=organisation,
            data={
                "entitlements": [
                    {
                        "id": e.pk,
                        "product_line": e.product_line_id,
                        "program": e.program,
                        "months": e.months,
                    }
                    for e in created
                ]
            },
        )
    return created


# Entitlements the accrual run re-derives when missing (associations written before this app,
# or by a path that did not publish the event): Partner Sourced ones, whose terms depend only on
# the association and the partner's kind (`rules.sourced_months`, passed in as parameters). An
# Upmarket Referral depends on the partner's tier, standing and accreditation *at the close*,
# which the portal does not keep; it is decided only at the close (see decisions).
DERIVE_SQL = """
INSERT INTO commissions_entitlement
    (association_id, organisation_id, customer_id, product_line_id, deal_id, program, months,
     close_date, created_at)
SELECT a.id, a.organisation_id, a.customer_id, a.product_line_id, a.deal_id,
       %(program)s,
       CASE WHEN o.kind = 'provider' THEN %(provider_months)s ELSE %(partner_months)s END,
       a.close_date, %(now)s
FROM deals_soldassociation a
JOIN core_organisation o ON o.id = a.organisation_id
WHERE a.kind = 'partner_sourced'
  AND NOT EXISTS (SELECT 1 FROM commissions_entitlement e WHERE e.association_id = a.id)
ON CONFLICT (association_id) DO NOTHING
RETURNING id, organisation_id
"""


def _derive_missing(run: AccrualRun, actor: User | None, label: str) -> int:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                DERIVE_SQL,
                {
                    "program": rules.Program.PARTNER_SOURCED.value,
                    "provider_months": rules.sourced_months(is_provider=True),
                    "partner_months": rules.sourced_months(is_provider=False),
                    "now": timezone.now(),
                },
            )
            rows = cursor.fetchall()
        if rows:
            audit(
                actor=actor,
                actor_label=label,
                verb="commissions.entitlements.derived",
                subject=run,
                data={"entitlements": [row[0] for row in rows]},
            )
    return len(rows)


# --- The accrual run --------------------------------------------------------------------------

# `rules.accrual_schedule`, set-based, for the entitlements with ids in [lo, hi), through the
# run's month; then the ledger brought to it in the same statement: a live accrual line (not
# reversed) that no longer matches what the month should accrue is reversed (reason given), and
# every expected month without a matching live line gets an accrual line, version = one more
# than the month's highest, linked to the line it replaces. Held equal to the pure function by
# commissions/tests/test_property_sql_equals_rules.py.
#
# A loss of revenue share (the kernel's `core_revenuesharestop`, `rules.Stop.covers`) takes every
# month whose 1st falls in a stop of the partner out of `expected`: the month still counts
# towards the entitlement's months (it is lost, not deferred), and a line already written for
# it (a stop backdated) is reversed with its own reason, like a billing correction.
#
# A billing version "bills" a month when its MRR is above 0 and it is in effect on the 1st
# (`core.rules.version_for_month`): the months it bills are [m_from, m_until), m_from the first
# 1st on or after it starts, m_until the first 1st on or after it ends. Versions of a line
# never overlap (`subversion_no_overlap`), so a month has at most one.
ACCRUE_SQL = """
WITH ent AS (
    SELECT e.id, e.organisation_id, e.months,
           date_trunc('month', e.close_date)::date AS close_month, s.id AS sub_id
    FROM commissions_entitlement e
    JOIN core_subscription s
      ON s.customer_id = e.customer_id AND s.product_line_id = e.product_line_id
    WHERE e.id >= %(lo)s AND e.id < %(hi)s
),
billed AS (
    SELECT v.subscription_id AS sub_id, v.mrr, v.currency_id,
           CASE WHEN extract(day FROM v.effective_from) = 1 THEN v.effective_from
                ELSE (date_trunc('month', v.effective_from) + interval '1 month')::date
           END AS m_from,
           CASE WHEN v.effective_until IS NULL THEN NULL
                WHEN extract(day FROM v.effective_until) = 1 THEN v.effective_until
                ELSE (date_trunc('month', v.effective_until) + interval '1 month')::date
           END AS m_until
    FROM core_subscriptionversion v
    WHERE v.mrr > 0 AND v.subscription_id IN (SELECT sub_id FROM ent)
),
start AS (
    SELECT ent.id, ent.organisation_id, ent.months, ent.sub_id,
           min(greatest(b.m_from, ent.close_month)) AS first_month
    FROM ent JOIN billed b ON b.sub_id = ent.sub_id
    WHERE b.m_until IS NULL OR greatest(b.m_from, ent.close_month) < b.m_until
    GROUP BY ent.id, ent.organisation_id, ent.months, ent.sub_id
),
months AS (
    SELECT s.id, s.organisation_id, s.sub_id, g::date AS month
    FROM start s,
         generate_series(
             s.first_month,
             least(%(month)s::date, (s.first_month + (s.months - 1) * interval '1 month')::date),
             interval '1 month'
         ) AS g
),
covered AS (
    SELECT m.id, m.organisation_id, m.month, b.mrr, b.currency_id,
           bool_and(b.mrr IS NOT NULL) OVER (PARTITION BY m.id ORDER BY m.month) AS unbroken
    FROM months m
    LEFT JOIN billed b
      ON b.sub_id = m.sub_id AND b.m_from <= m.month
     AND (b.m_until IS NULL OR m.month < b.m_until)
),
expected AS (
    SELECT c.id AS entitlement_id, c.organisation_id, c.month, c.mrr, c.currency_id,
           round(c.mrr * %(rate)s, 2) AS amount
    FROM covered c
    WHERE c.unbroken
      AND NOT EXISTS (
          SELECT 1 FROM core_revenuesharestop st
          WHERE st.organisation_id = c.organisation_id AND st.effective_from <= c.month
            AND (st.effective_until IS NULL OR c.month < st.effective_until)
      )
),
live AS (
    SELECT l.id, l.entitlement_id, l.organisation_id, l.month, l.version, l.mrr,
           l.currency_id, l.amount
    FROM commissions_ledgerline l
    WHERE l.entitlement_id >= %(lo)s AND l.entitlement_id < %(hi)s
      AND l.month <= %(month)s::date AND l.kind = 'accrual'
      AND NOT EXISTS (SELECT 1 FROM commissions_ledgerline r WHERE r.reverses_id = l.id)
),
reversed AS (
    INSERT INTO commissions_ledgerline
        (entitlement_id, organisation_id, month, version, kind, mrr, currency_id, amount,
         reverses_id, replaces_id, reason, run_id, created_at)
    SELECT l.entitlement_id, l.organisation_id, l.month, l.version, 'reversal', l.mrr,
           l.currency_id, -l.amount, l.id, NULL,
           CASE WHEN x.entitlement_id IS NOT NULL THEN %(reason_changed)s
                WHEN EXISTS (
                    SELECT 1 FROM core_revenuesharestop st
                    WHERE st.organisation_id = l.organisation_id AND st.effective_from <= l.month
                      AND (st.effective_until IS NULL OR l.month < st.effective_until)
                ) THEN %(reason_stopped)s
                ELSE %(reason_gone)s END,
           %(run)s, %(now)s
    FROM live l
    LEFT JOIN expected x ON x.entitlement_id = l.entitlement_id AND x.month = l.month
    WHERE x.entitlement_id IS NULL
       OR (x.mrr, x.currency_id, x.amount) IS DISTINCT FROM (l.mrr, l.currency_id, l.amount)
    RETURNING 1
),
accrued AS (
    INSERT INTO commissions_ledgerline
        (entitlement_id, organisation_id, month, version, kind, mrr, currency_id, amount,
         reverses_id, replaces_id, reason, run_id, created_at)
    SELECT x.entitlement_id, x.organisation_id, x.month,
           coalesce(last.version, 0) + 1, 'accrual', x.mrr, x.currency_id, x.amount,
           NULL, last.id, '', %(run)s, %(now)s
    FROM expected x
    LEFT JOIN live l ON l.entitlement_id = x.entitlement_id AND l.month = x.month
    LEFT JOIN LATERAL (
        SELECT p.id, p.version FROM commissions_ledgerline p
        WHERE p.entitlement_id = x.entitlement_id AND p.month = x.month AND p.kind = 'accrual'
        ORDER BY p.version DESC LIMIT 1
    ) AS last ON TRUE
    WHERE l.id IS NULL
       OR (x.mrr, x.currency_id, x.amount) IS DISTINCT FROM (l.mrr, l.currency_id, l.amount)
    RETURNING 1
)
SELECT (SELECT count(*) FROM reversed), (SELECT count(*) FROM accrued)
"""

REASON_GONE = "Billing corrected: the line is no longer billed for this month."
REASON_CHANGED = "Billing corrected: this month's MRR changed; replaced by a new line."
REASON_STOPPED = "Revenue share lost: a consequence stops accrual for this month."
CHUNK = 5_000
# One accrual at a time per database (a run and a re-run of a month must not interleave).
_LOCK_KEY = 7_202_607


@dataclass(frozen=True)
class RunResult:
    run: AccrualRun
    entitlements_derived: int
    lines_accrued: int
    lines_reversed: int


def check_month(month: date, *, today: date) -> date:
    """A run is for a whole calendar month, not after the current one (the clock is the
    process clock, SPEC 11)."""
    if month.day != 1:
        raise InvalidInput("Give the first day of a month.", field="month")
    if month > first_of_month(today):
        raise InvalidInput(
            f"{month:%Y-%m} has not started yet: a month is accrued from its first day.",
            field="month",
        )
    return month


def _chunk(*, run: AccrualRun, lo: int, hi: int, label: str, actor: User | None) -> tuple[int, int]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(
            ACCRUE_SQL,
            {
                "lo": lo,
                "hi": hi,
                "month": run.month,
                "rate": rules.RATE,
                "run": run.pk,
                "now": timezone.now(),
                "reason_gone": REASON_GONE,
                "reason_changed": REASON_CHANGED,
                "reason_stopped": REASON_STOPPED,
            },
        )
        reversed_, accrued = cursor.fetchone()
        if reversed_ or accrued:
            audit_many(
                actor=actor,
                actor_label=label,
                verb="commissions.ledger.accrued",
                events=[
                    Audited(
                        subject=run,
                        data={"entitlements": [lo, hi], "accrued": accrued, "reversed": reversed_},
                    )
                ],
            )
    return int(reversed_), int(accrued)


def accrual_run(
    *,
    month: date,
    actor: User | None,
    trigger: str,
    chunk: int = CHUNK,
) -> RunResult:
    """Accrue every entitlement through `month` (SPEC 7): idempotent (a second run adds
    nothing) and resumable (each chunk of entitlements is its own transaction; a run that
    stopped midway is completed by the next). Months before `month` are brought up to date
    too: a billing correction of an accrued month is reversed and replaced, and a month a
    missed run never accrued is accrued."""
    if actor is not None:
        access.require(actor, CommissionAction.ACCRUE)
    month = check_month(month, today=timezone.localdate())
    label = (
        actor.email
        if actor
        else ("operator" if trigger == AccrualRun.Trigger.COMMAND else "scheduler")
    )
    with transaction.atomic():
        run = AccrualRun.objects.create(month=month, trigger=trigger, requested_by=actor)
        audit(
            actor=actor,
            actor_label=label,
            verb="commissions.accrual_run.started",
            subject=run,
            data={"month": month.isoformat()},
        )
    derived = _derive_missing(run, actor, label)
    bounds = Entitlement.objects.order_by("id").values_list("id", flat=True)
    ids = list(bounds)
    reversed_total = accrued_total = 0
    for start in range(0, len(ids), chunk):
        lo = ids[start]
        hi = ids[start + chunk] if start + chunk < len(ids) else ids[-1] + 1
        reversed_, accrued = _chunk(run=run, lo=lo, hi=hi, label=label, actor=actor)
        reversed_total += reversed_
        accrued_total += accrued
    with transaction.atomic():
        AccrualRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            entitlements_derived=derived,
            lines_accrued=accrued_total,
            lines_reversed=reversed_total,
        )
        run.refresh_from_db()
        audit(
            actor=actor,
            actor_label=label,
            verb="commissions.accrual_run.finished",
            subject=run,
            data={
                "month": month.isoformat(),
                "entitlements_derived": derived,
                "lines_accrued": accrued_total,
                "lines_reversed": reversed_total,
            },
        )
    return RunResult(run, derived, accrued_total, reversed_total)
