"""What every page's frame (navigation) needs to know about the signed-in user.

It lives in the project package, which composes the apps: the kernel knows none of them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from accreditations.permissions import AccreditationAction
from commissions.permissions import CommissionAction
from deals.permissions import DealAction
from escalations.permissions import EscalationAction
from partnerportal.core import presenters
from partnerportal.core.access import Action, can
from partnerportal.core.models import Organisation, User
from tiers.permissions import TierAction


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    organisation = user.organisation if user.organisation_id else None
    flags = {
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
    own_tier = (
        user.organisation_id
        if user.is_partner_user
        and organisation is not None
        and organisation.kind == Organisation.Kind.PARTNER
        else None
    )
    return {
        # The role as the header says it ("Provider admin" at a provider, not "Partner admin").
        "role_words": presenters.role_words(
            role=user.role, organisation_kind=organisation.kind if organisation else None
        ),
        **flags,
        "nav_links": _nav_links(
            get_script_prefix(), tuple(flags.items()), own_tier, is_staff=user.is_staff
        ),
    }


@lru_cache(maxsize=1024)
def _nav_links(
    script_prefix: str,
    flags: tuple[tuple[str, bool], ...],
    own_tier: int | None,
    *,
    is_staff: bool,
) -> SafeString:
    """The main navigation's links (base.html), the same for everyone with the same
    permissions: built once per process for each (a dozen `reverse`s a page otherwise).
    `own_tier`: the partner of a partner user whose Tier link it shows."""
    can = dict(flags)
    links = [(reverse("home"), "Home")]
    if own_tier is not None:
        links.append((reverse("tiers-partner", args=[own_tier]), "Tier"))
    elif can["can_view_partner_tiers"]:
        links.append((reverse("tiers-partners"), "Partner tiers"))
    if can["can_register_deals"]:
        links.append((reverse("deals-mine"), "My deals"))
    if can["can_view_deals"]:
        links.append((reverse("deals-workspace"), "Deals workspace"))
    if can["can_decide_deals"]:
        links.append((reverse("deals-ties"), "Ties to decide"))
    if can["can_view_escalations"]:
        links.append((reverse("escalations-list"), "Escalations"))
    if can["can_view_accreditations"]:
        links.append((reverse("accreditations"), "Accreditations"))
    if can["can_close_quarters"]:
        links.append((reverse("commissions:quarters"), "Quarters"))
    elif can["can_read_statements"]:
        links.append((reverse("commissions:statements"), "Statements"))
    if can["can_view_audit"]:
        links.append((reverse("audit-list"), "Audit trail"))
    if is_staff:
        links.append((reverse("admin:index"), "Admin"))
    links.append((reverse("api-docs"), "API"))
    return format_html_join("\n    ", '<a href="{}">{}</a>', links)
