"""django-axes hooks: what sign-in failures are counted against (the e-mail address tried,
whichever sign-in path sent it: allauth's form passes `email`, Django's own `username`; and
the client's address), and the page a locked-out sign-in gets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def attempted_email(request: HttpRequest, credentials: Mapping[str, Any] | None) -> str:
    """The address of a sign-in attempt, lower-cased and trimmed ('' when none was given), so
    `Ops@Vendor.example` and `ops@vendor.example ` count as one account."""
    value: Any = None
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    if not value:
        data = getattr(request, "POST", None) or {}
        value = data.get("login") or data.get("email") or data.get("username")
    return str(value or "").strip().lower()


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or, behind `PORTAL_PROXY_COUNT` reverse proxies
    that each append to X-Forwarded-For, the address the outermost of them saw (DRF's rule
    for its `NUM_PROXIES`, so the API throttle and the lockout agree)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = int(getattr(settings, "PORTAL_PROXY_COUNT", 0) or 0)
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out sign-in gets (429): how long the pause lasts, in minutes."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = int(cooloff.total_seconds() // 60) if isinstance(cooloff, timedelta) else None
    return render(request, "lockout.html", {"minutes": minutes}, status=429)
