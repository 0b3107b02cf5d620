"""Every state change of commissions, by subject: the accrual (entitlements and the monthly
ledger, `accrual`) and the quarterly statements (`statements`)."""

from __future__ import annotations

from .accrual import (
    ACCRUE_SQL,
    CHUNK,
    DERIVE_SQL,
    REASON_CHANGED,
    REASON_GONE,
    REASON_STOPPED,
    RunResult,
    accrual_run,
    check_month,
    entitlements_for_deal,
    on_deal_credited,
)
from .statements import (
    CLOSE_SQL,
    PREVIEW_SQL,
    CloseResult,
    PreviewStatement,
    QuarterPreview,
    close_quarter,
    mark_statement_paid,
    preview_quarter,
    release_statement,
)

__all__ = [
    "ACCRUE_SQL",
    "CHUNK",
    "CLOSE_SQL",
    "DERIVE_SQL",
    "PREVIEW_SQL",
    "REASON_CHANGED",
    "REASON_GONE",
    "REASON_STOPPED",
    "CloseResult",
    "PreviewStatement",
    "QuarterPreview",
    "RunResult",
    "accrual_run",
    "check_month",
    "close_quarter",
    "entitlements_for_deal",
    "mark_statement_paid",
    "on_deal_credited",
    "preview_quarter",
    "release_statement",
]
