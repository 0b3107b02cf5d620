"""The commissions app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`CommissionsConfig.ready`)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class CommissionAction(StrEnum):
    ACCRUE = "commissions.accrue"  # run the monthly accrual (finance, SPEC 11)
    LEDGER_VIEW = "commissions.ledger_view"  # a partner's ledger: finance, the partner's users
    STATEMENT_VIEW = "commissions.statement_view"  # statements: finance, the partner's users
    QUARTER_CLOSE = "commissions.quarter_close"  # preview and close a quarter (finance)
    STATEMENT_EXPORT = "commissions.statement_export"  # a quarter as CSV, XLSX, PDF (finance)
    STATEMENT_PAY = "commissions.statement_pay"  # release a held statement, mark paid (finance)
    RULE_SET_EDIT = "commissions.rule_set_edit"  # Upmarket thresholds, exempt countries


GRANTS: dict[str, frozenset[str]] = {
    CommissionAction.ACCRUE: frozenset({Role.FINANCE}),
    # SPEC 1: finance sees all statements; a partner reads its own (and so its own ledger).
    CommissionAction.LEDGER_VIEW: frozenset({Role.FINANCE, *PARTNER_ROLES}),
    CommissionAction.STATEMENT_VIEW: frozenset({Role.FINANCE, *PARTNER_ROLES}),
    # SPEC 1: finance closes quarters, exports statements and marks them paid.
    CommissionAction.QUARTER_CLOSE: frozenset({Role.FINANCE}),
    CommissionAction.STATEMENT_EXPORT: frozenset({Role.FINANCE}),
    CommissionAction.STATEMENT_PAY: frozenset({Role.FINANCE}),
    # Upmarket Referral rule-set data (SPEC 7), edited in the admin by partner ops and finance.
    CommissionAction.RULE_SET_EDIT: frozenset({Role.PARTNER_OPS, Role.FINANCE}),
}
