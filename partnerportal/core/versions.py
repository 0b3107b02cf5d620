"""The data version: one token that every committed change replaces, so that what a page read
can be kept in the cache under it and is never shown once anything changed (issue 13, speed
under load; docs/decisions.md, "Pages under load").

Every state change goes through a service that appends an audit event in its transaction
(`core.audit`): appending one replaces the token when the change is made and again once it
commits, so a page read in between (from the data before the commit) is kept under a token
that is already gone. Saving a user or an organisation outside a service (a sign-in's
`last_login`, a password set by allauth) replaces it the same way (`core.apps`). A lost token
(an evicted or flushed cache) is a new one, so an evicted token never brings back an old
entry; cached entries also expire on their own.

Keyed by it: the signed-in user with their organisation (`core.auth`) and the bodies of the
pages people use all day (`core.pagecache`).
"""

from __future__ import annotations

from uuid import uuid4

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "core:data-version"


def data_version() -> str:
    """The current token: unchanged while no change was made or committed."""
    return str(cache.get_or_set(VERSION_KEY, _new_token, timeout=None))


def read_with_version(key: str) -> tuple[str, object | None]:
    """The current token and the cache entry `key`, in one round trip (None: not cached)."""
    found = cache.get_many([VERSION_KEY, key])
    token = found.get(VERSION_KEY)
    if token is None:
        return data_version(), None
    return str(token), found.get(key)


def data_changed() -> None:
    """A change is being made: replace the token now and again once it commits (at once when
    no transaction is open)."""
    replace()
    transaction.on_commit(replace)


def replace() -> None:
    """A new token (what `data_changed` does now and once the change commits)."""
    cache.set(VERSION_KEY, _new_token(), timeout=None)


def _new_token() -> str:
    return uuid4().hex
