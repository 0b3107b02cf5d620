"""The deals app's actions and who may perform them; registered with the kernel's access
layer when the app loads (`DealsConfig.ready`)."""

from __future__ import annotations

from enum import StrEnum

from partnerportal.core.models import PARTNER_ROLES, Role


class DealAction(StrEnum):
    REGISTER = "deals.register"  # partner users: register, accept, POI, referrals, answers
    VIEW = "deals.view"  # staff who see deals (GS in territory, partner ops)
    MANAGE = "deals.manage"  # growth specialists: approve, invite, quote, close, inquire
    DECIDE = "deals.decide"  # partner ops: decide Best Partner Wins ties
    ASSOCIATIONS_VIEW = "deals.associations_view"  # a partner's sold associations
    TERRITORY_EDIT = "deals.territory_edit"  # partner ops: who gets which region and segment


GRANTS: dict[str, frozenset[str]] = {
    DealAction.REGISTER: frozenset(PARTNER_ROLES),
    DealAction.VIEW: frozenset({Role.GROWTH_SPECIALIST, Role.PARTNER_OPS}),
    DealAction.MANAGE: frozenset({Role.GROWTH_SPECIALIST}),
    DealAction.DECIDE: frozenset({Role.PARTNER_OPS}),
    # SPEC 11: ops and the partner's own users; its PDM too (they follow its tier).
    DealAction.ASSOCIATIONS_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    DealAction.TERRITORY_EDIT: frozenset({Role.PARTNER_OPS}),
}
