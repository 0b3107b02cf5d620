"""The commissions app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`CommissionsConfig.ready`)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class CommissionAction(StrEnum):
    ACCRUE = "commissions.accrue"  # run the monthly accrual (finance, SPEC 11)
    LEDGER_VIEW = "commissions.ledger_view"  # a partner's ledger: finance, the partner's users


GRANTS: dict[str, frozenset[str]] = {
    CommissionAction.ACCRUE: frozenset({Role.FINANCE}),
    # SPEC 1: finance sees all statements; a partner reads its own (and so its own ledger).
    CommissionAction.LEDGER_VIEW: frozenset({Role.FINANCE, *PARTNER_ROLES}),
}
