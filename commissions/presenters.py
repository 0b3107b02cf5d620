"""What people read about revenue share: words for each code a statement, a ledger line or an
entitlement stores, keyed by the enums (a test checks every member has words), never the codes.

Pure: no queries; the views pass in what they loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from deals import selectors as deal_selectors
from deals.models import Poi

from .models import LedgerLine, Statement
from .rules import Program

STATUS_WORDS: Mapping[Statement.Status, str] = MappingProxyType(
    {
        Statement.Status.HELD: "Held",
        Statement.Status.PAYABLE: "Payable",
        Statement.Status.PAID: "Paid",
    }
)

# Why a statement is held, as finance reads it (quarter and statement pages, the preview).
HELD_REASON_WORDS: Mapping[Statement.HeldReason, str] = MappingProxyType(
    {
        Statement.HeldReason.PAYOUT_PAPERWORK: (
            "Payout paperwork (bank and tax details) is incomplete."
        ),
        Statement.HeldReason.STANDING: "The partner was not in good standing on the close date.",
    }
)

# The same, as the partner reads it on its own statements: what to do about it.
PARTNER_HELD_REASON_WORDS: Mapping[Statement.HeldReason, str] = MappingProxyType(
    {
        Statement.HeldReason.PAYOUT_PAPERWORK: (
            "Your payout paperwork (bank and tax details) is incomplete: once it is complete, "
            "finance releases the statement."
        ),
        Statement.HeldReason.STANDING: (
            "Your organisation was not in good standing when the quarter closed: the statement "
            "is released once it is back in good standing."
        ),
    }
)

KIND_WORDS: Mapping[LedgerLine.Kind, str] = MappingProxyType(
    {
        LedgerLine.Kind.ACCRUAL: "Accrual",
        LedgerLine.Kind.REVERSAL: "Reversal",
    }
)

PROGRAM_WORDS: Mapping[Program, str] = MappingProxyType(
    {
        Program.PARTNER_SOURCED: "Partner Sourced",
        Program.UPMARKET_REFERRAL: "Upmarket Referral Program",
    }
)

POI_STATUS_WORDS: Mapping[Poi.Status, str] = MappingProxyType(
    {
        Poi.Status.PENDING: "waiting for the customer",
        Poi.Status.APPROVED: "approved by the customer",
        Poi.Status.REJECTED: "rejected by the customer",
        Poi.Status.VOIDED: "voided by a quote change",
    }
)


def status_text(code: str) -> str:
    return STATUS_WORDS[Statement.Status(code)]


def held_text(codes: Iterable[str], *, for_partner: bool = False) -> list[str]:
    """Why a statement is held, one sentence per reason, in the stored order."""
    words = PARTNER_HELD_REASON_WORDS if for_partner else HELD_REASON_WORDS
    return [words[Statement.HeldReason(code)] for code in codes]


def kind_text(code: str) -> str:
    return KIND_WORDS[LedgerLine.Kind(code)]


def program_text(code: str) -> str:
    return PROGRAM_WORDS[Program(code)]


def poi_status_text(code: str | None) -> str:
    return POI_STATUS_WORDS[Poi.Status(code)] if code else "no proof of involvement"


def resolution_text(code: str | None) -> str:
    """The Best Partner Wins step that credited the deal (a code without words reads as a
    sentence made of it, never as the code)."""
    if not code:
        return "—"
    return deal_selectors.rule_words(code)


def money_text(amount: Decimal, currency: str) -> str:
    """`USD 1,234.56`; a negative amount keeps its sign (`USD -160.00`)."""
    return f"{currency} {amount:,.2f}"


def day_text(day: date) -> str:
    """`1 Jan 2027`, as the pages' `date:"j M Y"` (formatted here for lists: a tenth of the
    template filter's time)."""
    return f"{day.day} {day:%b %Y}"


def month_text(month: date) -> str:
    return f"{month:%B %Y}"


def rate_text(rate: Decimal) -> str:
    """0.20 -> `20 %`."""
    return f"{(rate * 100).normalize():f} %"


# --- Rows the pages show ---------------------------------------------------------------------

EXPORT_FORMATS: tuple[tuple[str, str], ...] = (
    ("csv", "CSV"),
    ("xlsx", "Excel (XLSX)"),
    ("pdf", "PDF, one page per partner"),
)


@dataclass(frozen=True)
class TotalCell:
    status: str
    statements: int
    amount: str


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's line of a totals table: a cell per status, then the whole."""

    currency: str
    cells: list[TotalCell]
    statements: int
    amount: str


def total_rows(totals: Iterable[Any]) -> list[CurrencyTotals]:
    """Totals by status and currency (the selectors' `Total` rows) as a table: one row per
    currency, one cell per status (every status, a missing one is zero)."""
    by_key: dict[tuple[str, str], Any] = {(t.currency, t.status): t for t in totals}
    rows = []
    for currency in sorted({c for c, _ in by_key}):
        cells = []
        count, amount = 0, Decimal(0)
        for status in Statement.Status:
            found = by_key.get((currency, status.value))
            n = found.statements if found else 0
            value = found.amount if found else Decimal(0)
            cells.append(TotalCell(STATUS_WORDS[status], n, money_text(value, currency)))
            count, amount = count + n, amount + value
        rows.append(CurrencyTotals(currency, cells, count, money_text(amount, currency)))
    return rows


@dataclass(frozen=True)
class StatementRow:
    statement: Statement
    status: str
    held: list[str]
    total: str
    prior_period: str
    payable_on: str  # "1 Jan 2027"
    paid_on: str  # "" while not paid


def statement_row(statement: Statement, *, for_partner: bool = False) -> StatementRow:
    currency = statement.currency_id
    return StatementRow(
        statement=statement,
        status=status_text(statement.status),
        held=held_text(statement.held_reasons, for_partner=for_partner)
        if statement.status == Statement.Status.HELD
        else [],
        total=money_text(statement.total, currency),
        prior_period=money_text(statement.prior_period_total, currency)
        if statement.prior_period_total
        else "",
        payable_on=day_text(statement.payable_on),
        paid_on=day_text(statement.paid_on) if statement.paid_on else "",
    )


@dataclass(frozen=True)
class LineRow:
    """A statement line as a page shows it, with its provenance in words."""

    ledger_line_id: int
    kind_code: str
    kind: str
    month: str
    customer_name: str
    customer_domain: str
    product_line: str
    mrr: str
    rate: str
    amount: str
    prior_period: bool
    reason: str
    program: str
    entitlement_id: int
    deal_id: int
    registration_id: int
    poi_id: int | None
    poi: str
    resolution: str


def line_row(line: Any) -> LineRow:
    """A `selectors.StatementLineView` in words."""
    return LineRow(
        ledger_line_id=line.ledger_line,
        kind_code=line.kind,
        kind=kind_text(line.kind),
        month=month_text(line.month),
        customer_name=line.customer_name,
        customer_domain=line.customer_domain,
        product_line=line.product_line_name,
        mrr=money_text(line.mrr, line.currency),
        rate=rate_text(line.rate),
        amount=money_text(line.amount, line.currency),
        prior_period=line.prior_period,
        reason=line.reason,
        program=program_text(line.program),
        entitlement_id=line.entitlement,
        deal_id=line.deal,
        registration_id=line.registration,
        poi_id=line.poi,
        poi=poi_status_text(line.poi_status),
        resolution=resolution_text(line.resolution_rule),
    )


@dataclass(frozen=True)
class UpcomingRow:
    month: str
    customer_name: str
    customer_domain: str
    product_line: str
    mrr: str
    amount: str


@dataclass(frozen=True)
class UpcomingMonth:
    """A coming month: what each entitlement is expected to accrue, and the month's total per
    currency."""

    month: str
    rows: list[UpcomingRow]
    totals: list[str]


def upcoming_rows(accruals: Iterable[Any]) -> list[UpcomingMonth]:
    """`selectors.UpcomingAccrual`s (ordered by month) grouped by month, in words."""
    months: dict[date, tuple[list[UpcomingRow], dict[str, Decimal]]] = {}
    for a in accruals:
        rows, sums = months.setdefault(a.month, ([], {}))
        rows.append(
            UpcomingRow(
                month=month_text(a.month),
                customer_name=a.customer_name,
                customer_domain=a.customer_domain,
                product_line=a.product_line_name,
                mrr=money_text(a.mrr, a.currency),
                amount=money_text(a.amount, a.currency),
            )
        )
        sums[a.currency] = sums.get(a.currency, Decimal(0)) + a.amount
    return [
        UpcomingMonth(
            month=month_text(month),
            rows=rows,
            totals=[money_text(amount, currency) for currency, amount in sorted(sums.items())],
        )
        for month, (rows, sums) in sorted(months.items())
    ]
