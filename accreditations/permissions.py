"""The accreditations app's actions and who may perform them; registered with the kernel's
access layer when the app loads (`AccreditationsConfig.ready`)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class AccreditationAction(StrEnum):
    CERTIFICATION_RECORD = "accreditations.certification_record"  # the academy feed (ops)
    VIEW = "accreditations.view"  # a partner's certifications and accreditations
    APPLY = "accreditations.apply"  # a partner admin applies for an accreditation
    REVIEW_RUN = "accreditations.review_run"  # the January/July review
    BOARD_DECIDE = "accreditations.board_decide"  # partner ops as the review board
    REQUIREMENTS_EDIT = "accreditations.requirements_edit"  # required certifications per kind


GRANTS: dict[str, frozenset[str]] = {
    AccreditationAction.CERTIFICATION_RECORD: frozenset({Role.PARTNER_OPS}),
    # SPEC 11: ops, the partner's PDM and its own users (PDMs see only their partners).
    AccreditationAction.VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    AccreditationAction.APPLY: frozenset({Role.PARTNER_ADMIN}),
    AccreditationAction.REVIEW_RUN: frozenset({Role.PARTNER_OPS}),
    AccreditationAction.BOARD_DECIDE: frozenset({Role.PARTNER_OPS}),
    AccreditationAction.REQUIREMENTS_EDIT: frozenset({Role.PARTNER_OPS}),
}
