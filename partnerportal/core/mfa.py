"""Whether a request's session has passed the staff second factor.

A staff member's session counts as signed in only once *this session* passed allauth's MFA
stage (or its MFA re-authentication): having an authenticator enrolled is not enough, since a
password alone must never open a staff page or the API. allauth records every authentication
step of a session (`get_authentication_records`); a passed second factor is a record with
method `mfa` naming one of the user's own authenticators.

The pages' middleware (`core.middleware.StaffMfaRequiredMiddleware`) and the API's session
authentication (`core.api.authentication.MfaSessionAuthentication`) both ask `session_state`,
so the rule is decided here once.
"""

from __future__ import annotations

import enum

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from .models import User


class SecondFactor(enum.Enum):
    NOT_REQUIRED = "not_required"  # partner users, or the requirement is off
    PASSED = "passed"  # this session passed the second factor
    NOT_ENROLLED = "not_enrolled"  # staff without an authenticator: enrol first
    NOT_PASSED = "not_passed"  # staff with an authenticator whose session did not use it

    @property
    def lets_through(self) -> bool:
        return self in (SecondFactor.NOT_REQUIRED, SecondFactor.PASSED)


def second_factor_required(user: User) -> bool:
    """Staff roles, and anyone who can open the Django admin, need a second factor."""
    return bool(settings.PORTAL_STAFF_MFA_REQUIRED) and (
        user.is_program_staff or user.is_staff or user.is_superuser
    )


def _authenticators(user: User) -> dict[int, str]:
    """The user's authenticators (id: type), asked on every staff page: as read with the
    signed-in user from the cache (`core.auth`, kept while nothing changed: an authenticator
    added or removed is a change), else one plain statement (the ORM's building of the same
    query cost four times its round trip)."""
    known = getattr(user, KNOWN_AUTHENTICATORS, None)
    if isinstance(known, dict):
        return known
    return read_authenticators(user)


# The attribute `core.auth` keeps a staff user's authenticators in, with the user.
KNOWN_AUTHENTICATORS = "_known_authenticators"


def read_authenticators(user: User) -> dict[int, str]:
    """The user's authenticators (id: type), from the database."""
    with connection.cursor() as cursor:
        cursor.execute(_AUTHENTICATORS_SQL, [user.pk])
        return dict(cursor.fetchall())


_AUTHENTICATORS_SQL = "SELECT id, type FROM mfa_authenticator WHERE user_id = %s"


def session_state(request: HttpRequest, user: User) -> SecondFactor:
    """Where `request`'s session stands with the second factor of `user` (one query, only for
    users who need a second factor)."""
    if not second_factor_required(user):
        return SecondFactor.NOT_REQUIRED
    authenticators = _authenticators(user)
    passed = {
        record.get("id")
        for record in get_authentication_records(request)
        if record.get("method") == "mfa"
    }
    if passed & set(authenticators):
        return SecondFactor.PASSED
    if Authenticator.Type.TOTP not in authenticators.values():
        return SecondFactor.NOT_ENROLLED
    return SecondFactor.NOT_PASSED


NOT_PASSED_MESSAGE = (
    "Staff must sign in with their authenticator code before using the API with a browser "
    "session: sign out, then sign in again and enter the code."
)
NOT_ENROLLED_MESSAGE = (
    "Staff must set up an authenticator app before using the API with a browser session."
)
