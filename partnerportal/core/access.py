"""The one permission layer: what each role may see and do.

Every view, API endpoint and service asks here. Partner users reach only their own
organisation's rows: queries go through `visible_organisations`/`scope_to_user`, and an
object outside the caller's reach is a 404 (`core.errors.NotFound`, never a 403 that confirms
it exists). A forbidden action on a visible object is a 403 (`require`, `core.errors.Forbidden`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .errors import Forbidden, NotFound
from .models import PARTNER_ROLES, Organisation, Role, User

M = TypeVar("M", bound=Model)


class Action(StrEnum):
    """The kernel's own actions. Each app declares its actions in its `permissions` module and
    registers their grants with `declare` when Django loads it (`AppConfig.ready`), so a new
    app never edits the kernel."""

    PARTNER_CREATE = "partner.create"
    PARTNER_ADD_USER = "partner.add_user"
    SUBSCRIPTION_CHANGE = "subscription.change"
    ACTIVITY_RECORD = "activity.record"
    AUDIT_VIEW = "audit.view"
    STAFF_LISTS_VIEW = "staff_lists.view"
    # The Django admin: reference data and rule sets; domain records are read-only there.
    ADMIN_SITE = "admin.use"
    REFERENCE_DATA_EDIT = "reference_data.edit"  # currencies and their points amounts


# Which roles may perform an action at all. Organisation-bound actions are further limited
# to the caller's own organisation for partner roles (see `can`).
_GRANTS: dict[str, frozenset[str]] = {
    Action.PARTNER_CREATE: frozenset({Role.PARTNER_OPS}),
    Action.PARTNER_ADD_USER: frozenset({Role.PARTNER_OPS, Role.PARTNER_ADMIN}),
    Action.SUBSCRIPTION_CHANGE: frozenset({Role.PARTNER_OPS}),
    Action.ACTIVITY_RECORD: frozenset({Role.PARTNER_OPS}),
    Action.AUDIT_VIEW: frozenset({Role.PARTNER_OPS}),
    Action.STAFF_LISTS_VIEW: frozenset(set(Role) - PARTNER_ROLES),
    Action.ADMIN_SITE: frozenset({Role.PARTNER_OPS}),
    Action.REFERENCE_DATA_EDIT: frozenset({Role.PARTNER_OPS}),
}


def declare(grants: Mapping[str, Iterable[str]]) -> None:
    """Register an app's actions and the roles granted each (called from `AppConfig.ready`).

    Declaring the same action twice with the same roles is harmless (a reload); with other
    roles it is a configuration error, so two apps cannot silently fight over one action.
    """
    for action, roles in grants.items():
        key, granted = str(action), frozenset(str(role) for role in roles)
        unknown = granted - set(Role)
        if unknown:
            raise ImproperlyConfigured(f"{key}: unknown roles {sorted(unknown)}")
        if key in _GRANTS and _GRANTS[key] != granted:
            raise ImproperlyConfigured(f"The action {key} is declared twice with other roles.")
        _GRANTS[key] = granted


def declared_actions() -> dict[str, frozenset[str]]:
    """Every action known to the access layer and the roles granted it (a copy)."""
    return dict(_GRANTS)


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
        raise Forbidden("Sign in first.")
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
    """Return the organisation `pk` if `user` may see it, else raise NotFound."""
    try:
        wanted = int(str(pk))
        if _is_active(user) and user.role in PARTNER_ROLES and wanted == user.organisation_id:
            # A partner user's own: the row every page's header reads anyway (one query).
            own = user.organisation
            if own is not None:
                return own
        return visible_organisations(user).get(pk=wanted)
    except (Organisation.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such partner.") from exc


def can(user: User, action: str, organisation: Organisation | None = None) -> bool:
    """Whether `user` may perform `action` (on `organisation`, when it is organisation-bound).

    An action no app declared is a programming error, not a quiet "no"."""
    try:
        granted = _GRANTS[str(action)]
    except KeyError as exc:
        raise ImproperlyConfigured(f"No app declared the action {action!s}.") from exc
    if not _is_active(user) or user.role not in granted:
        return False
    if user.role in PARTNER_ROLES and organisation is not None:
        return organisation.pk == user.organisation_id
    return True


def require(user: User, action: str, organisation: Organisation | None = None) -> None:
    """Raise Forbidden unless `user` may perform `action`."""
    if not can(user, action, organisation):
        raise Forbidden()
