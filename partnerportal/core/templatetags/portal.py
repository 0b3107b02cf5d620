"""Template helpers shared by every app's pages."""

from __future__ import annotations

from typing import Any

from django import template

from partnerportal.core import presenters
from partnerportal.core.models import Organisation

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], param: str, number: int) -> str:
    """The current page's query string with `param` set to `number`: every other parameter
    (filters, the other list's page) is kept, so paging one list never resets another."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        return f"?{param}={number}"
    query[param] = str(number)
    return "?" + query.urlencode()


@register.filter
def tier_label(organisation: Organisation) -> str:
    """`{{ organisation|tier_label }}`: its tier in words ("Provider (no tiers)" for a
    provider)."""
    return presenters.tier_words(kind=organisation.kind, tier=organisation.tier)
