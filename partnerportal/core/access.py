"""The one permission layer: what each role may see and do.

Every view, API endpoint and service asks here. Partner users reach only their own
organisation's rows: queries go through `visible_organisations`/`scope_to_user`, and an
object outside the caller's reach is a 404 (never a 403 that confirms it exists). A
forbidden action on a visible object is a 403 (`require`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from .models import PARTNER_ROLES, Organisation, Role, User

M = TypeVar("M", bound=Model)


class Action(StrEnum):
    PARTNER_CREATE = "partner.create"
    PARTNER_ADD_USER = "partner.add_user"
    SUBSCRIPTION_CHANGE = "subscription.change"
    ACTIVITY_RECORD = "activity.record"
    AUDIT_VIEW = "audit.view"
    STAFF_LISTS_VIEW = "staff_lists.view"
    TIER_RUN = "tiers.run"
    TIER_VIEW = "tiers.view"  # a partner's tier, figures and assessment history
    ELITE_INVITE = "tiers.elite_invite"
    ADMIN_SITE = "admin.use"
    DEAL_REGISTER = "deals.register"  # partner users: register, accept, POI, referrals, answers
    DEAL_VIEW = "deals.view"  # staff who see deals (GS in territory, partner ops)
    DEAL_MANAGE = "deals.manage"  # growth specialists: approve, invite, quote, close, inquire
    DEAL_DECIDE = "deals.decide"  # partner ops: decide Best Partner Wins ties
    ASSOCIATIONS_VIEW = "deals.associations_view"  # a partner's sold associations


# Which roles may perform an action at all. Organisation-bound actions are further limited
# to the caller's own organisation for partner roles (see `can`).
GRANTS: dict[Action, frozenset[str]] = {
    Action.PARTNER_CREATE: frozenset({Role.PARTNER_OPS}),
    Action.PARTNER_ADD_USER: frozenset({Role.PARTNER_OPS, Role.PARTNER_ADMIN}),
    Action.SUBSCRIPTION_CHANGE: frozenset({Role.PARTNER_OPS}),
    Action.ACTIVITY_RECORD: frozenset({Role.PARTNER_OPS}),
    Action.AUDIT_VIEW: frozenset({Role.PARTNER_OPS}),
    Action.STAFF_LISTS_VIEW: frozenset(set(Role) - PARTNER_ROLES),
    Action.TIER_RUN: frozenset({Role.PARTNER_OPS}),
    # SPEC 11: ops, the partner's PDM and its own users (PDMs see only their partners).
    Action.TIER_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
    Action.ELITE_INVITE: frozenset({Role.PARTNER_OPS}),
    # The Django admin: reference data and rule sets; domain records are read-only there.
    Action.ADMIN_SITE: frozenset({Role.PARTNER_OPS}),
    Action.DEAL_REGISTER: frozenset(PARTNER_ROLES),
    Action.DEAL_VIEW: frozenset({Role.GROWTH_SPECIALIST, Role.PARTNER_OPS}),
    Action.DEAL_MANAGE: frozenset({Role.GROWTH_SPECIALIST}),
    Action.DEAL_DECIDE: frozenset({Role.PARTNER_OPS}),
    # SPEC 11: ops and the partner's own users; its PDM too (they follow its tier).
    Action.ASSOCIATIONS_VIEW: frozenset({Role.PARTNER_OPS, Role.PDM, *PARTNER_ROLES}),
}

# Staff roles that see every partner organisation. PDMs see only the partners assigned to them.
ALL_PARTNERS_ROLES = frozenset(
    {
        Role.PARTNER_OPS,
        Role.FINANCE,
        Role.GROWTH_SPECIALIST,
        Role.SERVICE_ACCELERATION,
        Role.CUSTOMER_SUCCESS,
    }
)


def acting_user(request: HttpRequest) -> User:
    """The signed-in user of a request that authentication has already let through."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


def _is_active(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def visible_organisations(user: User) -> QuerySet[Organisation]:
    """Return the organisations `user` may see."""
    organisations = Organisation.objects.all()
    if not _is_active(user):
        return organisations.none()
    if user.role in PARTNER_ROLES:
        return organisations.filter(pk=user.organisation_id or 0)
    if user.role == Role.PDM:
        return organisations.filter(pdm=user)
    if user.role in ALL_PARTNERS_ROLES:
        return organisations
    return organisations.none()


def scope_to_user(user: User, queryset: QuerySet[M], *, organisation_field: str) -> QuerySet[M]:
    """Limit `queryset` to rows of organisations `user` may see, through `organisation_field`."""
    return queryset.filter(**{f"{organisation_field}__in": visible_organisations(user)})


def get_visible_organisation(user: User, pk: object) -> Organisation:
    """Return the organisation `pk` if `user` may see it, else raise Http404."""
    try:
        return visible_organisations(user).get(pk=int(str(pk)))
    except (Organisation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such partner.") from exc


def can(user: User, action: Action, organisation: Organisation | None = None) -> bool:
    """Whether `user` may perform `action` (on `organisation`, when it is organisation-bound)."""
    if not _is_active(user) or user.role not in GRANTS[action]:
        return False
    if user.role in PARTNER_ROLES and organisation is not None:
        return organisation.pk == user.organisation_id
    return True


def require(user: User, action: Action, organisation: Organisation | None = None) -> None:
    """Raise PermissionDenied unless `user` may perform `action`."""
    if not can(user, action, organisation):
        raise PermissionDenied("You are not allowed to do this.")
