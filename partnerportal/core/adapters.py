from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class PortalAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: partner ops and partner admins create accounts."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
