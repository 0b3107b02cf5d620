"""The escalations app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`EscalationsConfig.ready`).

Who acts at which step is the pure rule `rules.STEP_OWNERS`; the grants here say who may act at
all. The review board is partner ops acting with a director's approval recorded (decisions)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, STAFF_ROLES, Role


class EscalationAction(StrEnum):
    OPEN = "escalations.open"  # any vendor staff raise a customer's complaint (SPEC 11)
    VIEW = "escalations.view"  # read cases: staff (PDMs their partners), own partners
    ACT = "escalations.act"  # move a case (further limited to the owner of its step)
    MARKS_VIEW = "escalations.marks_view"  # a partner's marks: ops, PDM, own users
    CONSEQUENCES_VIEW = "escalations.consequences_view"  # ops, PDM, own users
    CONSEQUENCES_APPLY = "escalations.consequences_apply"  # partner ops


CASE_WORKERS = frozenset({Role.CUSTOMER_SUCCESS, Role.SERVICE_ACCELERATION, Role.PARTNER_OPS})

GRANTS: dict[str, frozenset[str]] = {
    # SPEC 11: `POST /escalations/` and `GET /escalations/` are for staff: whoever at the vendor
    # hears a customer's complaint raises it; who may *move* a case is the step's owner.
    EscalationAction.OPEN: STAFF_ROLES,
    EscalationAction.VIEW: frozenset({*STAFF_ROLES, *PARTNER_ROLES}),
    EscalationAction.ACT: CASE_WORKERS,
    EscalationAction.MARKS_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    EscalationAction.CONSEQUENCES_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    EscalationAction.CONSEQUENCES_APPLY: frozenset({Role.PARTNER_OPS}),
}
