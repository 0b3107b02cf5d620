"""Partner-ops pages: the ties awaiting a decision, and the decision itself (from the ties page
or the deal page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.models import User

from .. import selectors, services
from ..forms import DecideForm
from ..models import Deal, Poi, Registration
from ..permissions import DealAction
from ..rules import product_line_label
from ._common import page_of, submit
from .staff import deal_page, tied_choices


@dataclass
class TieRow:
    deal: Deal
    tied: list[tuple[Registration, Poi | None, list[str]]]  # with the POI's product lines
    form: DecideForm


@login_required
@require_GET
def ties(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    access.require(user, DealAction.DECIDE)
    return _ties_page(request, user)


def _ties_page(
    request: HttpRequest,
    user: User,
    *,
    forms: Mapping[int, DecideForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    page = page_of(request, selectors.ties(user))
    rows = []
    for deal in page.object_list:
        by_id = {r.pk: r for r in deal.registrations.all()}
        tied_ids = (deal.resolution_detail or {}).get("tied", [])
        tied = []
        for rid in tied_ids:
            if rid in by_id:
                poi = selectors.choose_current_poi(by_id[rid].pois.all())
                products = [product_line_label(code) for code in poi.product_lines] if poi else []
                tied.append((by_id[rid], poi, products))
        rows.append(
            TieRow(
                deal=deal,
                tied=tied,
                form=forms.get(deal.pk)
                or DecideForm(tied=tied_choices(deal, by_id), auto_id=f"id_tie{deal.pk}_%s"),
            )
        )
    return render(
        request, "deals/ties.html", {"page": page, "rows": rows, "error": error}, status=status
    )


@login_required
@require_POST
def deal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Partner ops settle a tie (from the ties queue or the deal page)."""
    user = acting_user(request)
    deal = selectors.get_deal(user, pk)
    access.require(user, DealAction.DECIDE)
    by_id = selectors.tied_registrations(user, deal)
    from_ties = request.POST.get("from") == "ties"
    form = DecideForm(
        request.POST,
        tied=tied_choices(deal, by_id),
        auto_id=f"id_tie{deal.pk}_%s" if from_ties else "id_%s",
    )
    decided, conflict = submit(
        form,
        lambda data: services.deal_decide(
            actor=user, deal=deal, registration_id=data["registration"], reason=data["reason"]
        ),
    )
    if decided is not None:
        winner = by_id.get(decided.winner_id or 0)
        credited = winner.organisation.name if winner else "the chosen partner"
        messages.success(
            request,
            f"Decision recorded: {credited} is credited on {deal.customer.domain}.",
        )
        if from_ties:
            return redirect("deals-ties")
        return redirect("deals-deal", pk=deal.pk)
    if from_ties:
        return _ties_page(request, user, forms={deal.pk: form}, error=conflict, status=400)
    return deal_page(
        request, user, deal.pk, overrides={"decide_form": form}, error=conflict, status=400
    )
