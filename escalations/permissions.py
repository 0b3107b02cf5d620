"""The escalations app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`EscalationsConfig.ready`).

Who acts at which step is the pure rule `rules.STEP_OWNERS`; the grants here say who may act at
all. The review board is partner ops acting with a director's approval recorded (decisions)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class EscalationAction(StrEnum):
    OPEN = "escalations.open"  # vendor staff raise a customer's complaint
    VIEW = "escalations.view"  # read cases: case workers, PDMs (their partners), own partners
    ACT = "escalations.act"  # move a case (further limited to the owner of its step)
    MARKS_VIEW = "escalations.marks_view"  # a partner's marks: ops, PDM, own users
    CONSEQUENCES_VIEW = "escalations.consequences_view"  # ops, PDM, own users
    CONSEQUENCES_APPLY = "escalations.consequences_apply"  # partner ops


CASE_WORKERS = frozenset({Role.CUSTOMER_SUCCESS, Role.SERVICE_ACCELERATION, Role.PARTNER_OPS})

GRANTS: dict[str, frozenset[str]] = {
    EscalationAction.OPEN: CASE_WORKERS,
    EscalationAction.VIEW: frozenset({*CASE_WORKERS, Role.PDM, *PARTNER_ROLES}),
    EscalationAction.ACT: CASE_WORKERS,
    EscalationAction.MARKS_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    EscalationAction.CONSEQUENCES_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    EscalationAction.CONSEQUENCES_APPLY: frozenset({Role.PARTNER_OPS}),
}
