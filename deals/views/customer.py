"""The customer's proof-of-involvement page: no account, the signed link is the key. It shows
who is asking and for which products; the customer approves or rejects once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from .. import presenters, services
from ..forms import PoiAnswerForm
from ..models import Poi
from ..rules import PoiLinkProblem


@csrf_protect
@require_http_methods(["GET", "POST"])
def poi_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        poi = services.poi_from_token(token)
    except services.PoiLinkError as exc:
        return _link_problem(request, exc)
    if request.method == "POST":
        form = PoiAnswerForm(request.POST)
        if not form.is_valid():
            return _render(request, poi, error="Choose approve or reject.", status=400)
        try:
            poi = services.poi_decide(token=token, decision=form.cleaned_data["decision"])
        except services.PoiLinkError as exc:
            return _link_problem(request, exc, poi=poi)
        return _render(request, poi, answered_now=True)
    problem = services.poi_link_problem(poi)
    if problem is not None:
        return _link_problem(request, services.PoiLinkError(problem), poi=poi)
    return _render(request, poi)


def _render(
    request: HttpRequest,
    poi: Poi,
    *,
    answered_now: bool = False,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    registration = poi.registration
    lines = {
        line.product_line_id: line
        for line in poi.quote.lines.select_related("product_line", "edition", "currency")
    }
    return render(
        request,
        "deals/poi_answer.html",
        {
            "poi": poi,
            "approved": poi.status == Poi.Status.APPROVED,
            "partner": registration.organisation,
            "customer": registration.deal.customer,
            "lines": [lines[code] for code in poi.product_lines if code in lines],
            "answered_now": answered_now,
            "error": error,
        },
        status=status,
    )


def _link_problem(
    request: HttpRequest, exc: services.PoiLinkError, *, poi: Poi | None = None
) -> HttpResponse:
    return render(
        request,
        "deals/poi_problem.html",
        {
            "title": presenters.POI_LINK_TITLES[exc.problem],
            "message": exc.message,
            # The recorded answer, for a link already used.
            "answered": poi if exc.problem is PoiLinkProblem.USED else None,
        },
        status=exc.status,
    )
