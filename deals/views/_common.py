"""What the deal pages share: submitting a form to a service, paging, the POI link to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms as django_forms
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from partnerportal.core import versions
from partnerportal.core.errors import InvalidInput, StateConflict

from .. import selectors, services
from ..forms import CustomerForm, apply_errors
from ..models import Poi

PAGE_SIZE = 25

# The blank customer forms (a partner's "Register a deal", the GS's "New vendor-owned deal"):
# the same for everyone, and their country list is most of their rendering. Each page keeps its
# rendering as a template fragment (`{% cache %}` named here, varying on whether the form is
# bound: a submitted one is rendered each time) and builds the form, and reads the countries,
# only when that fragment is not cached. A change to the countries drops both fragments
# (`forget_blank_customer_forms`, connected in `DealsConfig.ready`); they expire after
# `BLANK_FORM_SECONDS` in any case (a change that sends no signal, e.g. a migration).
BLANK_FORM_SECONDS = 300
BLANK_CUSTOMER_FORMS = ("deals_customer_form", "deals_create_form")

_T = TypeVar("_T")


def submit(
    form: django_forms.BaseForm,
    action: Callable[[dict[str, Any]], _T],
    *,
    on_error: Callable[[InvalidInput], None] | None = None,
) -> tuple[_T | None, str]:
    """Run `action(form.cleaned_data)` if the form is valid: (its result, "") on success.
    Otherwise the result is None (the services called this way never return None): an
    InvalidInput goes onto the form (`apply_errors`, or `on_error` when the keys need
    mapping) and a StateConflict comes back as the message to show with the page."""
    if form.is_valid():
        try:
            return action(form.cleaned_data), ""
        except InvalidInput as exc:
            if on_error is None:
                apply_errors(form, exc)
            else:
                on_error(exc)
        except StateConflict as exc:
            return None, exc.message
    return None, ""


def page_of(request: HttpRequest, items: Any, param: str = "page") -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def base_url(request: HttpRequest) -> str:
    """Where this request reached the portal (scheme, host and port), for absolute links."""
    return request.build_absolute_uri("/").rstrip("/")


def poi_link(request: HttpRequest, poi: Poi | None) -> str:
    """The link to send the customer, while it can still be answered, on the address the
    caller uses (never a hard-coded host or port)."""
    if poi is None or poi.status != Poi.Status.PENDING or services.poi_link_problem(poi):
        return ""
    return services.poi_url(poi, base_url=base_url(request))


def blank_customer_form(**kwargs: Any) -> CustomerForm:
    """A blank `CustomerForm` built (with the countries read) only when first used: a page
    whose form fragment is cached never builds it."""
    return SimpleLazyObject(  # type: ignore[return-value]
        lambda: CustomerForm(countries=selectors.country_choices(), **kwargs)
    )


def forget_blank_customer_forms(**_: Any) -> None:
    """Drop the cached blank customer forms (a country was saved or deleted), and the page
    bodies they were kept in (`core.pagecache`)."""
    cache.delete_many([make_template_fragment_key(name, [False]) for name in BLANK_CUSTOMER_FORMS])
    versions.data_changed()
