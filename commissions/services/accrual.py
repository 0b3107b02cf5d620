"""Writes of commissions (SPEC 7): entitlements when a deal is credited, and the monthly
accrual run. Each service checks permission, validates, writes and audits in one transaction;
the decisions are the pure functions of `commissions.rules`."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from partnerportal.core.rules import first_of_month, months_back

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
# which the portal does not keep; it is decided only at the close (see decisions). Only the
# associations noted since the last run are looked at (a trigger notes each one written,
# migration 0010); their notes are deleted in the same transaction, so a note written
# meanwhile is left for the next run.
DERIVE_SQL = """
WITH noted AS (
    DELETE FROM commissions_accrualchange WHERE association_id IS NOT NULL
    RETURNING association_id
)
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
  AND a.id IN (SELECT n.association_id FROM noted n)
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
#
# A run for month M does what can change, not everything again (issue 12, "Scale"):
#
# - every entitlement gets its months after the *watermark* (the latest month a finished run
#   accrued through) up to M: usually M alone;
# - the entitlements whose inputs changed since the last finished run (their line's billing,
#   their partner's losses of revenue share, the entitlement itself: noted by database
#   triggers in `commissions_accrualchange`, migration 0006) get every month up to M brought
#   to what it should be: a billing correction reversed and replaced, a backdated stop
#   reversed;
# - before any run finished (the watermark unknown), every entitlement is "changed".
#
# The invariant that makes this the ledger a full recomputation gives: for an entitlement
# with no change noted, its lines up to the watermark are what its inputs say. A run claims
# the notes at its start and deletes them when it finishes through M >= watermark (a run
# for an earlier month re-examines the changed entitlements through that month only, so it
# leaves their notes for the next run). Changes noted while a run goes on are left for the
# next. A run killed midway deletes nothing: the next run does its work again (each chunk is
# idempotent). One run at a time (a session advisory lock for the whole run), so a run's
# watermark and notes cannot move under it.
#
# Two statements do the work, set-based, no per-row Python:
#
# 1. `EXPECTED_SQL`, once per run: `rules.accrual_schedule` for every entitlement, for the
#    months from its `lower` (minus infinity for a changed one, the month after the watermark
#    otherwise) through the run's month, into a temporary table (the session's: a killed
#    process takes it with it). Hash joins over whole tables, like the benchmark's floor (a
#    month's run concerns every entitlement: reading all billing versions once is cheaper than
#    looking up each line's).
# 2. `ACCRUE_SQL`, per chunk of entitlements (ids in [lo, hi), one transaction each): the
#    ledger brought to those expected lines: a live accrual line (not reversed) of those
#    months that no longer matches what the month should accrue is reversed (reason given),
#    and every expected month without a matching live line gets an accrual line, version =
#    one more than the month's highest, linked to the line it replaces. The unique key
#    (entitlement, month, version, kind) makes a repeated chunk add nothing.
#
# Held equal to the pure function by commissions/tests/test_property_sql_equals_rules.py.
#
# A billing version "bills" a month when its MRR is above 0 and it is in effect on the 1st
# (`core.rules.version_for_month`): the months it bills are [m_from, m_until), m_from the first
# 1st on or after it starts, m_until the first 1st on or after it ends. Versions of a line
# never overlap (`subversion_no_overlap`), so a month has at most one. An entitlement starts
# at `first_month` (the first billed month from its close month) and stops for good at
# `end_month`, the first month after it that no version bills: the `m_until` of a version
# that no other version's months cover (the month after the last of a run of billed months is
# always such an `m_until`).
#
# A loss of revenue share (the kernel's `core_revenuesharestop`, `rules.Stop.covers`) takes every
# month whose 1st falls in a stop of the partner out of the expected lines: the month still
# counts towards the entitlement's months (it is lost, not deferred), and a line already
# written for it (a stop backdated) is reversed with its own reason, like a billing correction.
#
# The ledger is read only where it can hold something: every month of a changed entitlement;
# the window's months of the others only when a run that did not finish (killed) was for a
# month in the window (`window_written`). Otherwise no line of the window exists: lines are
# written only by runs, for months up to the run's, and every finished run's month is at most
# the watermark.
EXPECTED_TABLE = "commissions_run_expected"
EXPECTED_SELECT = """
WITH changed AS (SELECT DISTINCT unnest(%(changed)s::bigint[]) AS id),
-- Not materialized: planned inside `start` (a hash join with the billing versions, as for the
-- floor) rather than as a scan whose size the planner cannot see (it sorted a million
-- versions on disk to merge-join them with it).
todo AS NOT MATERIALIZED (
    SELECT e.id, e.organisation_id, e.months,
           date_trunc('month', e.close_date)::date AS close_month, s.id AS sub_id,
           CASE WHEN c.id IS NOT NULL THEN '-infinity'::date
                ELSE %(window_from)s::date END AS lower
    FROM commissions_entitlement e
    JOIN core_subscription s
      ON s.customer_id = e.customer_id AND s.product_line_id = e.product_line_id
    LEFT JOIN changed c ON c.id = e.id
    -- %(part)s: which entitlements this statement computes (`Part`).
    WHERE CASE %(part)s
              WHEN 'unchanged' THEN c.id IS NULL AND %(window_from)s::date <= %(month)s::date
              WHEN 'changed' THEN c.id IS NOT NULL
              ELSE c.id IS NOT NULL OR %(window_from)s::date <= %(month)s::date
          END
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
    WHERE v.mrr > 0
      -- The changed entitlements alone: only their lines' versions (a few thousand, by index).
      AND (%(part)s <> 'changed' OR v.subscription_id IN (SELECT t.sub_id FROM todo t))
),
start AS (
    SELECT t.id, t.organisation_id, t.months, t.sub_id, t.lower,
           min(greatest(b.m_from, t.close_month)) AS first_month
    FROM todo t JOIN billed b ON b.sub_id = t.sub_id
    WHERE b.m_until IS NULL OR greatest(b.m_from, t.close_month) < b.m_until
    GROUP BY t.id, t.organisation_id, t.months, t.sub_id, t.lower
),
-- The ends of billed runs: an `m_until` that no other version's months cover. An end after
-- the run's month cannot stop a month the run computes: only ends up to it are kept.
ends AS (
    SELECT b.sub_id, b.m_until
    FROM billed b
    WHERE b.m_until <= %(month)s::date
      AND NOT EXISTS (
          SELECT 1 FROM billed c
          WHERE c.sub_id = b.sub_id AND c.m_from <= b.m_until
            AND (c.m_until IS NULL OR b.m_until < c.m_until)
      )
),
-- The months any entitlement can accrue in this run (usually the run's month alone), then
-- each entitlement's: from its first month or the window's start, through the run's month
-- and its months' cap.
calendar AS (
    SELECT g::date AS month
    FROM generate_series(
        (SELECT min(greatest(s.first_month, s.lower)) FROM start s), %(month)s::date,
        interval '1 month'
    ) AS g
),
months AS (
    SELECT s.id, s.organisation_id, s.sub_id, s.first_month, c.month
    FROM start s
    JOIN calendar c
      ON c.month >= greatest(s.first_month, s.lower)
     AND c.month <= (s.first_month + (s.months - 1) * interval '1 month')::date
),
-- The versions that can bill a month the run computes: all of them when an entitlement's
-- every month is re-examined, otherwise those still billing at the window's start.
billing AS (
    SELECT * FROM billed b
    WHERE b.m_until IS NULL
       OR b.m_until > CASE WHEN %(part)s <> 'unchanged'
                                AND cardinality(%(changed)s::bigint[]) > 0
                           THEN '-infinity'::date
                           ELSE coalesce(%(window_from)s::date, '-infinity'::date) END
)
SELECT m.id AS entitlement_id, m.organisation_id, m.month, b.mrr, b.currency_id,
       round(b.mrr * %(rate)s, 2) AS amount
FROM months m
JOIN billing b
  ON b.sub_id = m.sub_id AND b.m_from <= m.month
 AND (b.m_until IS NULL OR m.month < b.m_until)
-- The entitlement stopped for good at the first end after its first month (`end_month`):
-- a month after such an end is not accrued.
WHERE NOT EXISTS (
      SELECT 1 FROM ends n
      WHERE n.sub_id = m.sub_id AND n.m_until > m.first_month AND n.m_until <= m.month
  )
  AND NOT EXISTS (
      SELECT 1 FROM core_revenuesharestop st
      WHERE st.organisation_id = m.organisation_id AND st.effective_from <= m.month
        AND (st.effective_until IS NULL OR m.month < st.effective_until)
  )
"""
EXPECTED_SQL = f"CREATE TEMPORARY TABLE {EXPECTED_TABLE} AS {EXPECTED_SELECT}"

# The common monthly run, when no run was killed in the window: the entitlements whose inputs
# did not change since the last finished run (nearly all) have no line in the window (see
# above), so every expected line of theirs is a new version 1 accrual. One statement writes
# them, in the order of `ledger_line_once` (month and partner first); the changed ones (new
# deals credited, billing corrections, stops) then go through the chunks. A line that exists
# after all would break `ledger_line_once`: the run fails rather than writing around it.
FRESH_SQL = f"""
INSERT INTO commissions_ledgerline
    (entitlement_id, organisation_id, month, version, kind, mrr, currency_id, amount,
     reverses_id, replaces_id, reason, run_id, created_at)
SELECT x.entitlement_id, x.organisation_id, x.month, 1, 'accrual', x.mrr, x.currency_id,
       x.amount, NULL, NULL, '', %(run)s, %(now)s
FROM ({EXPECTED_SELECT}) x
ORDER BY x.month, x.organisation_id, x.entitlement_id
"""  # noqa: S608  (built from constants only)

ACCRUE_SQL = f"""
WITH expected AS (
    SELECT * FROM {EXPECTED_TABLE}
    WHERE entitlement_id >= %(lo)s AND entitlement_id < %(hi)s
),
changed AS (SELECT DISTINCT unnest(%(changed)s::bigint[]) AS id),
written AS (
    SELECT l.id, l.entitlement_id, l.organisation_id, l.month, l.version, l.mrr,
           l.currency_id, l.amount
    FROM changed c
    JOIN commissions_entitlement e ON e.id = c.id
    CROSS JOIN LATERAL generate_series(
        date_trunc('month', e.close_date)::date, %(month)s::date, interval '1 month') AS g
    -- Looked up line by line in `ledger_line_once`, whatever the ledger's statistics say
    -- (OFFSET 0 keeps the planner from flattening the lookup into a join: a first run writes
    -- millions of lines within minutes, and a join planned on the empty ledger's statistics
    -- compared every line with every changed entitlement).
    CROSS JOIN LATERAL (
        SELECT l.id, l.entitlement_id, l.organisation_id, l.month, l.version, l.mrr,
               l.currency_id, l.amount
        FROM commissions_ledgerline l
        WHERE l.month = g::date AND l.organisation_id = e.organisation_id
          AND l.entitlement_id = c.id AND l.kind = 'accrual'
        OFFSET 0
    ) l
    UNION ALL
    SELECT l.id, l.entitlement_id, l.organisation_id, l.month, l.version, l.mrr,
           l.currency_id, l.amount
    FROM commissions_ledgerline l
    WHERE %(window_written)s
      AND l.entitlement_id >= %(lo)s AND l.entitlement_id < %(hi)s
      AND l.month >= %(window_from)s::date AND l.month <= %(month)s::date
      AND l.kind = 'accrual'
      AND NOT EXISTS (SELECT 1 FROM changed c WHERE c.id = l.entitlement_id)
),
live AS (
    SELECT w.* FROM written w
    WHERE NOT EXISTS (
        SELECT 1 FROM commissions_ledgerline r
        WHERE r.reverses_id = w.id AND r.reverses_id IS NOT NULL  -- ledger_reverses_once
    )
),
last AS (
    SELECT DISTINCT ON (entitlement_id, month) id, entitlement_id, month, version
    FROM written
    ORDER BY entitlement_id, month, version DESC
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
           coalesce(p.version, 0) + 1, 'accrual', x.mrr, x.currency_id, x.amount,
           NULL, p.id, '', %(run)s, %(now)s
    FROM expected x
    LEFT JOIN live l ON l.entitlement_id = x.entitlement_id AND l.month = x.month
    LEFT JOIN last p ON p.entitlement_id = x.entitlement_id AND p.month = x.month
    WHERE l.id IS NULL
       OR (x.mrr, x.currency_id, x.amount) IS DISTINCT FROM (l.mrr, l.currency_id, l.amount)
    -- In the order of `ledger_line_once` (month and partner first).
    ORDER BY x.month, x.organisation_id, x.entitlement_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM reversed), (SELECT count(*) FROM accrued)
"""  # noqa: S608  (a constant table name)

# The run claims every change noted so far (a killed run's claims included) and reads which
# entitlements they concern: those whose every month is re-examined.
CLAIM_SQL = """
WITH claimed AS (
    UPDATE commissions_accrualchange SET run_id = %(run)s
    WHERE association_id IS NULL  -- the associations' notes are `DERIVE_SQL`'s
    RETURNING subscription_id, organisation_id, entitlement_id
)
SELECT c.entitlement_id FROM claimed c WHERE c.entitlement_id IS NOT NULL
UNION
SELECT e.id FROM claimed c JOIN commissions_entitlement e
    ON e.organisation_id = c.organisation_id
UNION
SELECT e.id FROM claimed c
    JOIN core_subscription s ON s.id = c.subscription_id
    JOIN commissions_entitlement e
      ON e.customer_id = s.customer_id AND e.product_line_id = s.product_line_id
ORDER BY 1
"""

# The latest month a finished run accrued through (NULL: no run ever finished).
WATERMARK_SQL = "SELECT max(month) FROM commissions_accrualrun WHERE finished_at IS NOT NULL"

# Whether a run other than this one that did not finish was for a month on or after the
# window's first: only then can the window hold lines already.
WINDOW_WRITTEN_SQL = """
SELECT EXISTS (
    SELECT 1 FROM commissions_accrualrun
    WHERE finished_at IS NULL AND id <> %(run)s AND month >= %(window_from)s
)
"""

# Settings of the run's statements (transaction-local). JIT off: the planner's row estimates
# through the CTEs are far too high, and compiling the statement would cost more than running
# it. A larger sort and hash memory than the server's 4 MB default: the month's lines are
# sorted in index order (tens of MB at the vendor's scale) and the billing versions hashed.
RUN_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")

REASON_GONE = "Billing corrected: the line is no longer billed for this month."
REASON_CHANGED = "Billing corrected: this month's MRR changed; replaced by a new line."
REASON_STOPPED = "Revenue share lost: a consequence stops accrual for this month."
CHUNK = 50_000
# One accrual at a time per database: held by a run from start to finish (session lock), and
# by each chunk (transaction lock).
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


@dataclass(frozen=True)
class Scope:
    """What a run re-examines: `window_from` (None: every month) to the run's month for every
    entitlement, every month for the `changed` ones (sorted ids)."""

    window_from: date | None
    changed: list[int]
    consumes: bool  # whether finishing the run deletes the changes it claimed
    window_written: bool  # whether lines of the window may exist (a killed run's)


def _scope(run: AccrualRun) -> Scope:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WATERMARK_SQL)
        watermark = cursor.fetchone()[0]
        changed = []
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM commissions_accrualchange WHERE association_id IS NULL)"
        )
        if cursor.fetchone()[0]:
            cursor.execute(CLAIM_SQL, {"run": run.pk})
            changed = [row[0] for row in cursor.fetchall()]
        window_from = None if watermark is None else months_back(watermark, -1)
        window_written = False
        if window_from is None:  # no run finished yet: everything is examined
            changed = list(Entitlement.objects.order_by("id").values_list("id", flat=True))
        else:
            cursor.execute(WINDOW_WRITTEN_SQL, {"run": run.pk, "window_from": window_from})
            window_written = bool(cursor.fetchone()[0])
    return Scope(
        window_from=window_from,
        changed=changed,
        consumes=watermark is None or run.month >= watermark,
        window_written=window_written,
    )


class Part:
    """Which entitlements a computing statement covers (`%(part)s`)."""

    ALL = "all"  # the changed ones and, when the window is open, every other one
    UNCHANGED = "unchanged"  # the others, for the window (`FRESH_SQL`)
    CHANGED = "changed"  # the changed ones alone, every month (after `FRESH_SQL`)


def _expect(run: AccrualRun, scope: Scope, part: str) -> None:
    """Compute the run's expected lines into the session's temporary table (`EXPECTED_SQL`)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in RUN_SETTINGS:
            cursor.execute(setting)
        cursor.execute(f"DROP TABLE IF EXISTS {EXPECTED_TABLE}")
        cursor.execute(
            EXPECTED_SQL,
            {
                "month": run.month,
                "window_from": scope.window_from,
                "changed": scope.changed,
                "rate": rules.RATE,
                "part": part,
            },
        )
        cursor.execute(f"ANALYZE {EXPECTED_TABLE}")


def _drop_expected() -> None:
    if not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {EXPECTED_TABLE}")


def _chunk(
    *, run: AccrualRun, lo: int, hi: int, scope: Scope, label: str, actor: User | None
) -> tuple[int, int]:
    changed = scope.changed[bisect_left(scope.changed, lo) : bisect_left(scope.changed, hi)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        for setting in RUN_SETTINGS:
            cursor.execute(setting)
        cursor.execute(
            ACCRUE_SQL,
            {
                "lo": lo,
                "hi": hi,
                "month": run.month,
                "window_from": scope.window_from,
                "window_written": scope.window_written,
                "changed": changed,
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


def _fresh(*, run: AccrualRun, scope: Scope, label: str, actor: User | None) -> int:
    """The unchanged entitlements' window (`FRESH_SQL`): their expected lines written as they
    are computed, in one transaction (killed, it leaves nothing, and the next run, seeing a
    killed run in its window, brings everything to what it should be through the chunks)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        for setting in RUN_SETTINGS:
            cursor.execute(setting)
        cursor.execute(
            FRESH_SQL,
            {
                "month": run.month,
                "window_from": scope.window_from,
                "changed": scope.changed,
                "rate": rules.RATE,
                "part": Part.UNCHANGED,
                "run": run.pk,
                "now": timezone.now(),
            },
        )
        accrued = cursor.rowcount
        if accrued:
            audit(
                actor=actor,
                actor_label=label,
                verb="commissions.ledger.accrued",
                subject=run,
                data={"accrued": accrued, "reversed": 0},
            )
    return int(accrued)


@contextmanager
def _one_run_at_a_time() -> Iterator[None]:
    """Hold the accrual's session advisory lock for the whole run (waiting for a run in
    progress). A killed process's connection ends, and the lock with it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        yield
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


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
    missed run never accrued is accrued. Only what can have changed is re-examined (see
    above): the months after the last finished run's, and every month of the entitlements
    whose inputs changed."""
    if actor is not None:
        access.require(actor, CommissionAction.ACCRUE)
    month = check_month(month, today=timezone.localdate())
    label = (
        actor.email
        if actor
        else ("operator" if trigger == AccrualRun.Trigger.COMMAND else "scheduler")
    )
    with _one_run_at_a_time():
        return _run(month=month, actor=actor, trigger=trigger, chunk=chunk, label=label)


def _run(*, month: date, actor: User | None, trigger: str, chunk: int, label: str) -> RunResult:
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
    scope = _scope(run)
    reversed_total = accrued_total = 0
    fresh = scope.window_from is not None and not scope.window_written
    if fresh:
        accrued_total = _fresh(run=run, scope=scope, label=label, actor=actor)
        ids, part = scope.changed, Part.CHANGED
    else:
        ids = list(Entitlement.objects.order_by("id").values_list("id", flat=True))
        part = Part.ALL
    if ids:
        try:
            _expect(run, scope, part)
            for start in range(0, len(ids), chunk):
                lo = ids[start]
                hi = ids[start + chunk] if start + chunk < len(ids) else ids[-1] + 1
                reversed_, accrued = _chunk(
                    run=run, lo=lo, hi=hi, scope=scope, label=label, actor=actor
                )
                reversed_total += reversed_
                accrued_total += accrued
        finally:
            _drop_expected()
    with transaction.atomic():
        if scope.consumes:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM commissions_accrualchange WHERE run_id = %s", [run.pk])
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
                "entitlements_changed": len(scope.changed),
                "lines_accrued": accrued_total,
                "lines_reversed": reversed_total,
            },
        )
    return RunResult(run, derived, accrued_total, reversed_total)
