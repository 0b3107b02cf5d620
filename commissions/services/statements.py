"""Writes of the quarterly statements (SPEC 7): preview and close a quarter, release a held
statement, mark one paid. Each checks permission, validates, writes and audits in one
transaction; the decisions are the pure rules of `commissions.rules` (`close_months`,
`takes_line`, `held_reasons`, `payable_on`, `check_paid_on`).

A close is set-based: one statement (`CLOSE_SQL`) inserts the quarter close, the statements
(one per partner and currency) and their lines from the ledger. The SQL does not decide which
lines or which hold: it takes the lines of the months `rules.close_months` lists, and reads each
partner's status and held reasons from a table of `rules.held_reasons` over every (paperwork,
standing) pair. `commissions/tests/test_property_close_equals_rules.py` holds the result equal
to the pure rules line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from partnerportal.core import access
from partnerportal.core.audit import audit
from partnerportal.core.errors import StateConflict
from partnerportal.core.models import Organisation, User

from .. import rules, selectors
from ..models import QuarterClose, Statement
from ..permissions import CommissionAction
from ..selectors import Total

# One close at a time per database (two closes of a quarter must not interleave).
_LOCK_KEY = 7_202_608
_OPERATOR = "operator"

# The candidate lines of a close and the statements they make, by partner and currency.
# %(months)s/%(prior)s: `rules.close_months`; %(h_*)s: `rules.held_reasons` for every
# (paperwork, standing) pair, reasons joined by commas. A partner whose pair is missing would
# get a NULL status, which the statement's NOT NULL refuses: a close never silently drops lines.
CANDIDATES_SQL = """
WITH taken AS (
    SELECT t.month, t.prior_period
    FROM unnest(%(months)s::date[], %(prior)s::boolean[]) AS t(month, prior_period)
),
hold AS (
    SELECT h.paperwork, h.standing, h.status, h.reasons
    FROM unnest(%(h_paperwork)s::boolean[], %(h_standing)s::text[], %(h_status)s::text[],
                %(h_reasons)s::text[]) AS h(paperwork, standing, status, reasons)
),
candidate AS (
    SELECT l.id, l.organisation_id, l.currency_id, l.month, l.amount, t.prior_period
    FROM commissions_ledgerline l
    JOIN taken t ON t.month = l.month
    WHERE NOT EXISTS (
        SELECT 1 FROM commissions_statementline sl WHERE sl.ledger_line_id = l.id
    )
),
grouped AS (
    SELECT c.organisation_id, c.currency_id, sum(c.amount) AS total,
           coalesce(sum(c.amount) FILTER (WHERE c.prior_period), 0) AS prior_period_total,
           count(*) AS lines, h.status,
           string_to_array(h.reasons, ',')::varchar(20)[] AS held_reasons
    FROM candidate c
    JOIN core_organisation o ON o.id = c.organisation_id
    LEFT JOIN hold h
      ON h.paperwork = o.payout_paperwork_complete AND h.standing = o.standing
    GROUP BY c.organisation_id, c.currency_id, h.status, h.reasons
)
"""

PREVIEW_SQL = (
    CANDIDATES_SQL
    + """
SELECT g.organisation_id, o.name, g.currency_id, g.total, g.prior_period_total, g.lines,
       g.status, g.held_reasons
FROM grouped g JOIN core_organisation o ON o.id = g.organisation_id
ORDER BY o.name, g.organisation_id, g.currency_id
"""
)

CLOSE_SQL = (
    CANDIDATES_SQL  # noqa: S608  (built from constants only, never input)
    + """,
closed AS (
    INSERT INTO commissions_quarterclose
        (quarter, starts_on, ends_on, closed_at, closed_by_id, statements, lines)
    SELECT %(quarter)s, %(starts_on)s, %(ends_on)s, %(now)s, %(actor)s,
           (SELECT count(*) FROM grouped), (SELECT coalesce(sum(lines), 0) FROM grouped)
    RETURNING id
),
statements AS (
    INSERT INTO commissions_statement
        (close_id, organisation_id, quarter, currency_id, total, prior_period_total, payable_on,
         status, held_reasons, released_at, paid_on, payment_reference, created_at)
    SELECT closed.id, g.organisation_id, %(quarter)s, g.currency_id, g.total,
           g.prior_period_total, %(payable_on)s, g.status, g.held_reasons, NULL, NULL, '',
           %(now)s
    FROM grouped g CROSS JOIN closed
    RETURNING id, organisation_id, currency_id
),
lines AS (
    INSERT INTO commissions_statementline
        (statement_id, ledger_line_id, month, amount, prior_period)
    SELECT s.id, c.id, c.month, c.amount, c.prior_period
    FROM candidate c
    JOIN statements s ON s.organisation_id = c.organisation_id AND s.currency_id = c.currency_id
    RETURNING 1
)
SELECT (SELECT id FROM closed), (SELECT count(*) FROM statements), (SELECT count(*) FROM lines)
"""
)


CLOSE_TUNE_SQL = "SELECT set_config('work_mem', '256MB', true)"
ANALYZE_SQL = "ANALYZE commissions_statement, commissions_statementline"


@dataclass(frozen=True)
class PreviewStatement:
    """A statement a close makes (or made): one partner, one currency."""

    organisation_id: int
    organisation_name: str
    currency: str
    total: Decimal
    prior_period_total: Decimal
    lines: int
    status: str
    held_reasons: list[str]


@dataclass(frozen=True)
class QuarterPreview:
    """What closing `quarter` would produce (or, once closed, produced): its statements by
    partner and currency, and the totals by status and currency."""

    quarter: rules.Quarter
    already_closed: bool
    statements: list[PreviewStatement]
    totals: list[Total]


@dataclass(frozen=True)
class CloseResult:
    """A close: `created` False when the quarter was already closed (nothing written; the
    counts are the existing close's)."""

    close: QuarterClose
    created: bool
    statements: int
    lines: int


def _check_ended(quarter: rules.Quarter) -> None:
    if not rules.quarter_ended(quarter, today=timezone.localdate()):
        raise StateConflict(
            f"{quarter.label} has not ended yet: it can be closed from "
            f"{quarter.next().starts_on:%Y-%m-%d}."
        )


def _parameters(quarter: rules.Quarter) -> dict[str, Any]:
    """The close's SQL parameters, decided by the pure rules."""
    months = rules.close_months(quarter, selectors.closed_quarter_set())
    pairs = [
        (
            paperwork,
            standing,
            rules.held_reasons(payout_paperwork_complete=paperwork, standing=standing),
        )
        for paperwork in (True, False)
        for standing in Organisation.Standing.values
    ]
    return {
        "months": [month for month, _prior in months],
        "prior": [prior for _month, prior in months],
        "h_paperwork": [paperwork for paperwork, _s, _r in pairs],
        "h_standing": [standing for _p, standing, _r in pairs],
        "h_status": [rules.statement_status(reasons) for _p, _s, reasons in pairs],
        "h_reasons": [",".join(reasons) for _p, _s, reasons in pairs],
    }


def _totals(statements: list[PreviewStatement]) -> list[Total]:
    sums: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for s in statements:
        count, amount = sums.get((s.status, s.currency), (0, Decimal(0)))
        sums[(s.status, s.currency)] = (count + 1, amount + s.total)
    return [
        Total(status=status, currency=currency, statements=count, amount=amount)
        for (status, currency), (count, amount) in sorted(sums.items())
    ]


def _closed_statements(quarter: rules.Quarter) -> list[PreviewStatement]:
    rows = (
        Statement.objects.filter(quarter=quarter.label)
        .annotate(line_count=Count("lines"))
        .select_related("organisation")
        .order_by("organisation__name", "organisation_id", "currency_id")
    )
    return [
        PreviewStatement(
            organisation_id=s.organisation_id,
            organisation_name=s.organisation.name,
            currency=s.currency_id,
            total=s.total,
            prior_period_total=s.prior_period_total,
            lines=s.line_count,  # type: ignore[attr-defined]
            status=s.status,
            held_reasons=list(s.held_reasons),
        )
        for s in rows
    ]


def preview_quarter(*, actor: User | None, quarter: rules.Quarter) -> QuarterPreview:
    """What closing `quarter` would produce, writing nothing (a dry run; finance only, `actor`
    None: the operator command). A quarter already closed answers with the statements its close
    made, as they stand; one not ended yet is refused, as its close would be."""
    if actor is not None:
        access.require(actor, CommissionAction.QUARTER_CLOSE)
    if QuarterClose.objects.filter(quarter=quarter.label).exists():
        statements = _closed_statements(quarter)
        return QuarterPreview(quarter, True, statements, selectors.quarter_totals(quarter))
    _check_ended(quarter)
    with connection.cursor() as cursor:
        cursor.execute(PREVIEW_SQL, _parameters(quarter))
        rows = cursor.fetchall()
    statements = [
        PreviewStatement(
            organisation_id=org,
            organisation_name=name,
            currency=currency,
            total=total,
            prior_period_total=prior,
            lines=int(lines),
            status=status,
            held_reasons=list(reasons),
        )
        for org, name, currency, total, prior, lines, status, reasons in rows
    ]
    return QuarterPreview(quarter, False, statements, _totals(statements))


def close_quarter(*, actor: User | None, quarter: rules.Quarter) -> CloseResult:
    """Close `quarter` (SPEC 7): one statement per partner and currency from the ledger lines
    `rules.close_months` gives that are on no statement yet, payable 45 days after the quarter
    ends, held while the partner's payout paperwork is incomplete or it is not in good standing
    today (the close date). Finance only (`actor` None: the operator command). Once only:
    closing again writes nothing and answers `created=False`. A quarter not ended yet is
    refused."""
    if actor is not None:
        access.require(actor, CommissionAction.QUARTER_CLOSE)
    _check_ended(quarter)
    label = actor.email if actor else _OPERATOR
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        existing = QuarterClose.objects.filter(quarter=quarter.label).first()
        if existing is not None:
            return CloseResult(existing, False, existing.statements, existing.lines)
        now = timezone.now()
        with connection.cursor() as cursor:
            # For this transaction only: sort and group a quarter's lines in memory, not on
            # disk (a quarter of 874 439 lines spilled about 100 MB at the default 4 MB).
            cursor.execute(CLOSE_TUNE_SQL)
            cursor.execute(
                CLOSE_SQL,
                {
                    **_parameters(quarter),
                    "quarter": quarter.label,
                    "starts_on": quarter.starts_on,
                    "ends_on": quarter.ends_on,
                    "payable_on": rules.payable_on(quarter),
                    "now": now,
                    "actor": actor.pk if actor else None,
                },
            )
            close_id, statements, lines = cursor.fetchone()
            # The statistics of the tables just filled, committed with the close: the export
            # that follows a close would otherwise be planned on those of the tables before it
            # (nested loops for every line: 3x the time of the hash joins it gets).
            cursor.execute(ANALYZE_SQL)
        close = QuarterClose.objects.get(pk=close_id)
        audit(
            actor=actor,
            actor_label=label,
            verb="commissions.quarter.closed",
            subject=close,
            data={
                "quarter": quarter.label,
                "statements": int(statements),
                "lines": int(lines),
                "totals": [
                    {
                        "status": t.status,
                        "currency": t.currency,
                        "statements": t.statements,
                        "amount": str(t.amount),
                    }
                    for t in selectors.quarter_totals(quarter)
                ],
            },
        )
    return CloseResult(close, True, int(statements), int(lines))


def _locked(actor: User, statement_id: int) -> Statement:
    """The statement, if `actor` may read it (404 otherwise) and pay it (403), locked."""
    statement = selectors.statement_for(actor, statement_id)
    access.require(actor, CommissionAction.STATEMENT_PAY, statement.organisation)
    return (
        Statement.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=statement.pk)
    )


def _words(reasons: list[str]) -> str:
    return "; ".join(str(Statement.HeldReason(code).label).lower() for code in reasons)


@transaction.atomic
def release_statement(*, actor: User, statement_id: int) -> Statement:
    """Release a held statement (held -> payable) once no reason holds it any more today: the
    partner's payout paperwork is complete and it is in good standing. Finance only. Its held
    reasons are cleared (the audit record keeps them)."""
    statement = _locked(actor, statement_id)
    if statement.status != Statement.Status.HELD:
        status = statement.get_status_display().lower()
        raise StateConflict(f"Only a held statement can be released; this one is {status}.")
    organisation = statement.organisation
    reasons = rules.held_reasons(
        payout_paperwork_complete=organisation.payout_paperwork_complete,
        standing=organisation.standing,
    )
    if reasons:
        raise StateConflict(f"The statement stays held: {_words(reasons)}.")
    was = list(statement.held_reasons)
    now = timezone.now()
    Statement.objects.filter(pk=statement.pk).update(
        status=Statement.Status.PAYABLE, held_reasons=[], released_at=now
    )
    selectors.statements_changed()  # the quarter's cached totals: now, and once committed
    transaction.on_commit(selectors.statements_changed)
    statement.refresh_from_db()
    audit(
        actor=actor,
        verb="commissions.statement.released",
        subject=statement,
        organisation=organisation,
        data={"quarter": statement.quarter, "currency": statement.currency_id, "held_reasons": was},
    )
    return statement


@transaction.atomic
def mark_statement_paid(
    *, actor: User, statement_id: int, payment_reference: str, paid_on: date
) -> Statement:
    """Record the payment of a payable statement (payable -> paid) with its reference and date
    (not before the quarter's end, not in the future). Finance only; a held statement must be
    released first, a paid one is not paid again."""
    statement = _locked(actor, statement_id)
    quarter = rules.parse_quarter(statement.quarter)
    reference = rules.check_payment_reference(payment_reference)
    rules.check_paid_on(paid_on, quarter=quarter, today=timezone.localdate())
    if statement.status == Statement.Status.HELD:
        raise StateConflict(
            f"The statement is held ({_words(list(statement.held_reasons))}): release it first."
        )
    if statement.status == Statement.Status.PAID:
        raise StateConflict(
            f"The statement was already paid on {statement.paid_on:%Y-%m-%d} "
            f"(reference {statement.payment_reference})."
        )
    Statement.objects.filter(pk=statement.pk).update(
        status=Statement.Status.PAID, paid_on=paid_on, payment_reference=reference
    )
    selectors.statements_changed()  # the quarter's cached totals: now, and once committed
    transaction.on_commit(selectors.statements_changed)
    statement.refresh_from_db()
    audit(
        actor=actor,
        verb="commissions.statement.paid",
        subject=statement,
        organisation=statement.organisation,
        data={
            "quarter": statement.quarter,
            "currency": statement.currency_id,
            "total": str(statement.total),
            "paid_on": paid_on.isoformat(),
            "payment_reference": reference,
        },
    )
    return statement
