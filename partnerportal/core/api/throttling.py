"""API throttling (DRF's) per signed-in user (a token is a user) and per address for anonymous
callers. Over the rate: 429 with `Retry-After` (DRF's `Throttled`). The rates are read from
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request, so a changed setting applies
at once (DRF's own classes keep the rates of the moment they were imported)."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def _rate(scope: str | None) -> str | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope or "")
    return None if rate is None else str(rate)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)
