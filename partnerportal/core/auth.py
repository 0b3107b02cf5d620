"""The signed-in user of each request, read from the cache while nothing changed.

Django's `get_user` reads the user (and every page's header then their organisation) from
the database on every request: two ORM queries, about 2 ms of a page here, and a staff page
their authenticators (`core.mfa`). The backends below are Django's and allauth's own with
`get_user` reading the user, with their organisation and a staff user's authenticators, from
the cache under the data version (`core.versions`): any committed change (a service's audited
write, a user, organisation or authenticator saved or deleted, a password changed) makes the
next request read them afresh. Sign-in itself (`authenticate`) always reads the database.
Django still checks the session's password hash against the user read, and an inactive user
is never cached (`user_can_authenticate`)."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.cache import cache

from . import mfa, versions
from .models import User

USER_SECONDS = 15 * 60


def _key(user_id: object) -> str:
    return f"core:user:v1:{user_id}"


class CachedUserMixin:
    def get_user(self, user_id: Any) -> User | None:
        token, entry = versions.read_with_version(_key(user_id))
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
            return entry[1]  # type: ignore[no-any-return]
        user = super().get_user(user_id)  # type: ignore[misc]
        if isinstance(user, User):
            if user.organisation_id:
                user.organisation  # noqa: B018 (loaded now, kept with the user)
            if mfa.second_factor_required(user):  # asked on each of their pages
                setattr(user, mfa.KNOWN_AUTHENTICATORS, mfa.read_authenticators(user))
            # Kept under the token read before the user: a change committed in between
            # already replaced it, so this entry is never read.
            cache.set(_key(user_id), (token, user), USER_SECONDS)
        return user  # type: ignore[no-any-return]


class ModelBackend(CachedUserMixin, DjangoModelBackend):
    """`django.contrib.auth.backends.ModelBackend`, its user read from the cache."""


class AuthenticationBackend(CachedUserMixin, AllauthBackend):
    """allauth's `AuthenticationBackend`, its user read from the cache."""
