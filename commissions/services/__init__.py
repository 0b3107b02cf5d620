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

__all__ = [
    "ACCRUE_SQL",
    "CHUNK",
    "DERIVE_SQL",
    "REASON_CHANGED",
    "REASON_GONE",
    "REASON_STOPPED",
    "RunResult",
    "accrual_run",
    "check_month",
    "entitlements_for_deal",
    "on_deal_credited",
]
