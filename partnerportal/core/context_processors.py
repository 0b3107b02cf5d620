from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .access import Action, can


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "can_view_audit": can(user, Action.AUDIT_VIEW),  # type: ignore[arg-type]
        "can_register_deals": can(user, Action.DEAL_REGISTER),  # type: ignore[arg-type]
        "can_view_deals": can(user, Action.DEAL_VIEW),  # type: ignore[arg-type]
        "can_decide_deals": can(user, Action.DEAL_DECIDE),  # type: ignore[arg-type]
    }
