"""The tiers app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`TiersConfig.ready`)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class TierAction(StrEnum):
    RUN = "tiers.run"
    VIEW = "tiers.view"  # a partner's tier, figures and assessment history
    ELITE_INVITE = "tiers.elite_invite"
    RULE_SET_EDIT = "tiers.rule_set_edit"  # partner ops: tier targets for a program year


GRANTS: dict[str, frozenset[str]] = {
    TierAction.RUN: frozenset({Role.PARTNER_OPS}),
    # SPEC 11: ops, the partner's PDM and its own users (PDMs see only their partners).
    TierAction.VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    TierAction.ELITE_INVITE: frozenset({Role.PARTNER_OPS}),
    TierAction.RULE_SET_EDIT: frozenset({Role.PARTNER_OPS}),
}
