"""The bodies of the pages people use all day, kept in the cache under the data version.

A page's body (what its template renders inside the layout) is kept under the data version
(`core.versions`) that was current before anything of it was read, so a committed change
makes the next request render it afresh; the layout around it (who is signed in, messages)
is rendered on every request. A body that reads differently as time passes (an invitation
that lapses, a question that falls overdue) is kept only until the first such instant the
view names (`until`). The key names everything else the body depends on: the page, the
audience (organisation, role, user where it shows theirs) and the query (page numbers);
views cache only their default or paged GET, never a submitted form or a filter.

A body is shared by everyone with the same key, so its forms carry a placeholder where the
CSRF token goes, replaced by the viewer's own token each time it is served.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from . import versions

# Never a real token (those are 64 letters and digits); replaced before a body is served.
CSRF_PLACEHOLDER = "csrf-token-placeholder"
BODY_SECONDS = 10 * 60


@dataclass(frozen=True)
class Slot:
    """Where a body is kept: its cache key and the data version read before the page's data
    (None: this request's body is not kept, a submitted form or a filtered view)."""

    key: str | None
    token: str = ""


NOT_CACHED = Slot(None)


def lookup(
    request: HttpRequest, page: str, *parts: object, keep: bool = True
) -> tuple[Slot, SafeString | None]:
    """The slot of `page`'s body for `parts`, and the body if it is kept and still true
    (`keep=False`: this request's body is neither read nor kept)."""
    if not keep:
        return NOT_CACHED, None
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"core:page:v1:{page}:{digest}"
    token, entry = versions.read_with_version(key)
    slot = Slot(key, token)
    if (
        isinstance(entry, tuple)
        and len(entry) == 3
        and entry[0] == token
        and timezone.now().timestamp() < entry[1]
    ):
        return slot, _served(request, entry[2])
    return slot, None


def render(
    request: HttpRequest,
    slot: Slot,
    template: str,
    context: dict[str, Any],
    *,
    until: datetime | None = None,
    seconds: int = BODY_SECONDS,
) -> SafeString:
    """Render `template` (a page's body) and keep it in `slot` until `until` (the first
    instant it would read differently), at most `seconds`."""
    if slot.key is None:
        return mark_safe(render_to_string(template, context, request))  # noqa: S308 (escaped by the template)
    html = _compact(
        str(render_to_string(template, {**context, "csrf_token": CSRF_PLACEHOLDER}, request))
    )
    now = timezone.now().timestamp()
    expires = now + seconds if until is None else min(now + seconds, until.timestamp())
    if expires > now:
        cache.set(slot.key, (slot.token, expires, html), timeout=int(expires - now) + 1)
    return _served(request, html)


_INDENTED_LINES = re.compile(r"\s*\n\s*")


def _compact(html: str) -> str:
    """The template's indentation and blank lines folded into one line break (what a
    browser shows is the same: whitespace between words and tags collapses anyway), a tenth
    of a list page's bytes; left as it is where whitespace is kept (`<pre>`, `<textarea>`)."""
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENTED_LINES.sub("\n", html)


def _served(request: HttpRequest, html: str) -> SafeString:
    # The viewer's own token (and its cookie, as `{% csrf_token %}` would have set it).
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    return mark_safe(html)  # noqa: S308 (the template's own rendering, escaped then; a token of letters and digits)


def plain_pages(request: HttpRequest, *params: str) -> tuple[str, ...] | None:
    """The page numbers of a list page whose body may be kept: its query has nothing but
    `params`, each none or a few digits; None otherwise (a filter or an odd page number is
    rendered each time, never a cache entry per made-up query)."""
    if not set(request.GET) <= set(params):
        return None
    numbers = tuple(request.GET.get(param, "") for param in params)
    if any(n and not (n.isdigit() and len(n) <= 6) for n in numbers):
        return None
    return numbers


def first_instant(instants: list[datetime | None], now: datetime) -> datetime | None:
    """The earliest of `instants` still to come (None: none is)."""
    future = [i for i in instants if i is not None and i > now]
    return min(future) if future else None
