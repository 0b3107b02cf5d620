"""What every page's frame (navigation) needs to know about the signed-in user.

It lives in the project package, which composes the apps: the kernel knows none of them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accreditations.permissions import AccreditationAction
from commissions.permissions import CommissionAction
from deals.permissions import DealAction
from escalations.permissions import EscalationAction
from partnerportal.core import presenters
from partnerportal.core.access import Action, can
from partnerportal.core.models import User
from tiers.permissions import TierAction


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    organisation = user.organisation if user.organisation_id else None
    return {
        # The role as the header says it ("Provider admin" at a provider, not "Partner admin").
        "role_words": presenters.role_words(
            role=user.role, organisation_kind=organisation.kind if organisation else None
        ),
        "can_view_audit": can(user, Action.AUDIT_VIEW),
        "can_register_deals": can(user, DealAction.REGISTER),
        "can_view_deals": can(user, DealAction.VIEW),
        "can_decide_deals": can(user, DealAction.DECIDE),
        "can_view_escalations": can(user, EscalationAction.VIEW),
        "can_view_accreditations": can(user, AccreditationAction.VIEW),
        "can_view_partner_tiers": can(user, TierAction.VIEW) and not user.is_partner_user,
        "can_close_quarters": can(user, CommissionAction.QUARTER_CLOSE),
        "can_read_statements": can(user, CommissionAction.STATEMENT_VIEW) and user.is_partner_user,
    }
