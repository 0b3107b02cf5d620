"""Accreditation pages: the partner's own page (status, expiry, grace and its cause, what is
missing to apply, the Apply button), the PDM's and partner ops' list, an accreditation's
page with its reviews, and the review board's queue. Thin: reach from `access` and the scoped
selectors, decisions from the rules, words from `presenters`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Organisation

from . import presenters, rules, selectors, services
from .forms import ApplyForm, BoardDecisionForm
from .models import Accreditation
from .permissions import AccreditationAction

PAGE_SIZE = 50


@dataclass
class KindRow:
    """One kind on the partner's page: its latest accreditation and what applying needs."""

    kind: str
    name: str
    required: list[str]
    latest: Accreditation | None
    reasons: list[str]
    missing: list[str]
    can_apply: bool
    form: ApplyForm | None = None
    history: list[Accreditation] = field(default_factory=list)


def _kind_rows(organisation: Organisation, *, may_apply: bool) -> list[KindRow]:
    today = timezone.localdate()
    held = selectors.held_codes(org_ids=[organisation.pk], as_of=today).get(
        organisation.pk, frozenset()
    )
    required = selectors.requirements()
    by_kind: dict[str, list[Accreditation]] = {}
    for accreditation in selectors.organisation_accreditations(organisation):
        by_kind.setdefault(accreditation.kind, []).append(accreditation)
    rows = []
    for kind in rules.Kind:
        history = by_kind.get(kind.value, [])
        latest = history[0] if history else None
        live = latest is not None and rules.Status(latest.status) in rules.LIVE_STATUSES
        gaps = rules.gaps(tier=organisation.tier, held=held, required=required[kind.value])
        rows.append(
            KindRow(
                kind=kind.value,
                name=presenters.kind_name(kind),
                required=[presenters.certification_name(c) for c in required[kind.value]],
                latest=latest,
                reasons=presenters.reasons_text(latest.reasons) if latest else [],
                missing=presenters.reasons_text(g.code() for g in gaps),
                can_apply=may_apply and not live,
                form=ApplyForm(initial={"kind": kind.value}, auto_id=f"id_{kind.value}_%s"),
                history=history[1:],
            )
        )
    return rows


@login_required
@require_GET
def accreditations(request: HttpRequest) -> HttpResponse:
    """A partner's own accreditations; for a PDM their partners', for partner ops all."""
    user = acting_user(request)
    access.require(user, AccreditationAction.VIEW)
    if user.is_partner_user and user.organisation is not None:
        organisation = user.organisation
        return render(
            request,
            "accreditations/partner.html",
            {
                "organisation": organisation,
                "rows": _kind_rows(
                    organisation,
                    may_apply=access.can(user, AccreditationAction.APPLY, organisation),
                ),
                "certifications": [
                    (presenters.certification_name(c.code), c)
                    for c in selectors.organisation_certifications(organisation)
                ],
                "today": timezone.localdate(),
            },
        )
    page = Paginator(selectors.visible_accreditations(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accreditations/list.html",
        {
            "page": page,
            "rows": [
                (a, presenters.kind_name(a.kind), presenters.reasons_text(a.reasons))
                for a in page.object_list
            ],
            "is_board": access.can(user, AccreditationAction.BOARD_DECIDE),
        },
    )


@login_required
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    access.require(user, AccreditationAction.APPLY, user.organisation)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an accreditation to apply for.")
        return redirect("accreditations")
    try:
        accreditation = services.accreditation_apply(actor=user, kind=form.kind_value())
    except StateConflict as exc:
        messages.error(request, exc.message)
        return redirect("accreditations")
    name = presenters.kind_name(accreditation.kind)
    status = rules.Status(accreditation.status)
    if status == rules.Status.ACTIVE:
        messages.success(
            request,
            f"{name}: accredited until {presenters.day(accreditation.expires_on)}.",
        )
    elif status == rules.Status.BOARD_REVIEW:
        messages.info(request, f"{name}: your application goes to the review board.")
    else:
        messages.error(
            request,
            f"{name}: your application was rejected. "
            + " ".join(presenters.reasons_text(accreditation.reasons)),
        )
    return redirect(f"{reverse('accreditations')}#kind-{accreditation.kind}")


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    accreditation = selectors.accreditation_for(user, pk)
    return render(
        request,
        "accreditations/detail.html",
        {
            "accreditation": accreditation,
            "kind_name": presenters.kind_name(accreditation.kind),
            "reasons": presenters.reasons_text(accreditation.reasons),
            "reviews": [
                (
                    r,
                    presenters.OUTCOME_WORDS[rules.Outcome(r.outcome)],
                    presenters.reasons_text(r.reasons),
                )
                for r in selectors.reviews_of(accreditation)
            ],
            "decisions": list(accreditation.board_decisions.select_related("decided_by")),
            "is_board": access.can(user, AccreditationAction.BOARD_DECIDE)
            and accreditation.status == rules.Status.BOARD_REVIEW,
            "form": BoardDecisionForm(),
        },
    )


def _board_page(
    request: HttpRequest,
    *,
    forms: dict[int, BoardDecisionForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    page = Paginator(selectors.board_queue(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (
            a,
            presenters.kind_name(a.kind),
            presenters.reasons_text(a.reasons),
            "renewal" if a.issued_on else "application",
            forms.get(a.pk) or BoardDecisionForm(auto_id=f"id_board{a.pk}_%s"),
        )
        for a in page.object_list
    ]
    return render(
        request,
        "accreditations/board.html",
        {"page": page, "rows": rows, "error": error},
        status=status,
    )


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The accreditation review board's queue (partner ops)."""
    access.require(acting_user(request), AccreditationAction.BOARD_DECIDE)
    return _board_page(request)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    accreditation = selectors.accreditation_for(user, pk)
    access.require(user, AccreditationAction.BOARD_DECIDE)
    form = BoardDecisionForm(request.POST, auto_id=f"id_board{pk}_%s")
    if form.is_valid():
        try:
            decision = services.board_decide(
                actor=user, accreditation_id=accreditation.pk, data=form.to_input()
            )
        except InvalidInput as exc:
            for name, errors in exc.errors.items():
                for message in errors:
                    form.add_error(name if name in form.fields else None, message)
        except StateConflict as exc:
            return _board_page(request, error=exc.message, status=409)
        else:
            messages.success(
                request,
                f"Decision recorded: the {presenters.kind_name(accreditation.kind)} "
                f"accreditation of {accreditation.organisation.name} is "
                f"{presenters.status_name(decision.status_after).lower()}.",
            )
            return redirect("accreditations-board")
    return _board_page(request, forms={pk: form}, status=400)
