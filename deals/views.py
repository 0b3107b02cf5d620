"""Deal pages. Thin: objects through the selectors, changes through the services.

A refused change (ValidationError naming the field, or StateConflict) re-renders the page
with the form as submitted, its messages and a 400: never a 500, never lost input. A success
redirects with a message. Partner pages show the partner's own registration only: never a
deal id, another partner, or anything that differs when others are on the same deal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnerportal.core import access
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import Country, Currency, Edition, Organisation, ProductLine, User

from . import rules, selectors, services
from .forms import (
    AcknowledgeForm,
    AnswerForm,
    AskForm,
    CloseForm,
    CustomerForm,
    DecideForm,
    DecisionForm,
    InviteForm,
    ManualPoiForm,
    QuoteForm,
    QuoteLineFormSet,
    ReferralForm,
    apply_errors,
)
from .models import Deal, Inquiry, Poi, QuoteVersion, Registration
from .permissions import DealAction

PAGE_SIZE = 25

_T = TypeVar("_T")

# Words for the codes the rules store (SPEC 5 and 6), shown on staff pages.
RESOLUTION_WORDS = {
    "no_candidate": "No candidate: no partner is credited",
    "single_candidate": "Single candidate: the only partner with a counting POI wins",
    "sourcing_priority": "Sourcing partner priority (referral and onboarding choice)",
    "highest_mrr_onboarding": "Onboarding of the highest-MRR line wins",
    "awaiting_decision": "Tie: awaiting a partner-ops decision",
    "ops_decision": "Decided by partner ops",
}
EXCLUSION_WORDS = {
    "other_domain": "registered on another domain than the purchase domain",
    "no_poi": "has no proof of involvement",
    "not_approved": "its proof of involvement was not approved by the customer",
    "late_signature": "the customer approved its proof of involvement after the close date",
    "outside_sale_month": "its proof of involvement was approved outside the month of the sale",
}
ELIGIBILITY_WORDS = {
    "eligible_edition": "Professional or Enterprise edition",
    "credits": "HubSpot Credits",
    "hub_agnostic": "Hub-agnostic product",
    "starter_upgrade": "Starter upgraded to Professional/Enterprise",
    "bundled_starter": "Starter bundled with an eligible line",
    "starter_not_bundled": "Starter, not bundled: not credited",
    "already_held": "Already held by the customer: not credited",
}


# --- Helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return timezone.now()


def _current_poi(pois: Iterable[Poi]) -> Poi | None:
    """The same choice as `selectors.current_poi`, over POIs already fetched newest first:
    the live one (pending or approved), else the latest answered one; voided ones never."""
    kept = [p for p in pois if p.status != Poi.Status.VOIDED]
    live = [p for p in kept if p.status in (Poi.Status.PENDING, Poi.Status.APPROVED)]
    chosen = live or kept
    return chosen[0] if chosen else None


def _poi_link(poi: Poi | None) -> str:
    """The link to send the customer, while it can still be answered."""
    if poi is None or poi.status != Poi.Status.PENDING or services.poi_link_problem(poi):
        return ""
    return services.poi_url(poi)


def _partner_outcome(registration: Registration) -> str:
    """What a partner may know of the close: its own credit, nothing about why or who else.
    A tie awaiting ops reads like any close without credit to this partner."""
    deal = registration.deal
    if deal.status == Deal.Status.OPEN:
        return ""
    return "credited" if deal.winner_id == registration.pk else "not_credited"


def _status_words(registration: Registration, now: datetime) -> str:
    if (
        registration.status == Registration.Status.INVITED
        and registration.expires_at is not None
        and registration.expires_at <= now
    ):
        return "Invitation expired"
    return registration.get_status_display()


def _countries() -> list[tuple[str, str]]:
    # Reference data, the same for everyone.
    return list(Country.objects.order_by("name").values_list("code", "name"))


def _line_choices() -> dict[str, list[tuple[str, str]]]:
    # Reference data for the quote editor, loaded once per page.
    return {
        "product_lines": list(ProductLine.objects.order_by("name").values_list("code", "name")),
        "editions": list(Edition.objects.order_by("rank").values_list("code", "name")),
        "currencies": [
            (c, c) for c in Currency.objects.order_by("code").values_list("code", flat=True)
        ],
    }


def _error_text(exc: ValidationError | StateConflict) -> str:
    if isinstance(exc, StateConflict):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _submit(
    form: django_forms.BaseForm,
    action: Callable[[dict[str, Any]], _T],
    *,
    on_error: Callable[[ValidationError | InvalidInput], None] | None = None,
) -> tuple[_T | None, str]:
    """Run `action(form.cleaned_data)` if the form is valid: (its result, "") on success.
    Otherwise the result is None (the services called this way never return None): a
    ValidationError goes onto the form (`apply_errors`, or `on_error` when the keys need
    mapping) and a StateConflict comes back as the message to show with the page."""
    if form.is_valid():
        try:
            return action(form.cleaned_data), ""
        except (ValidationError, InvalidInput) as exc:
            if on_error is None:
                apply_errors(form, exc)
            else:
                on_error(exc)
        except StateConflict as exc:
            return None, exc.message
    return None, ""


def _page(request: HttpRequest, items: Any, param: str = "page") -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


_LINE_KEY = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


# --- Partner: "My deals" ---------------------------------------------------------------------


@dataclass
class PartnerRow:
    registration: Registration
    status: str
    poi: Poi | None
    awaiting_answer: int
    overdue: int
    outcome: str


@login_required
@require_http_methods(["GET", "POST"])
def my_deals(request: HttpRequest) -> HttpResponse:
    """A partner's registrations and the form to register a new deal."""
    user = acting_user(request)
    if not access.can(user, DealAction.REGISTER):
        if request.method == "GET" and access.can(user, DealAction.VIEW):
            return redirect("deals-workspace")
        raise PermissionDenied("Only partner users register deals.")
    countries = _countries()
    if request.method == "POST":
        form = CustomerForm(request.POST, countries=countries)
        registration, conflict = _submit(
            form, lambda data: services.registration_create(actor=user, **data)
        )
        if registration is not None:
            messages.success(
                request,
                f"Deal registered on {registration.registered_domain}. The growth specialist "
                "of the customer's territory will approve or reject it.",
            )
            return redirect("deals-registration", pk=registration.pk)
        return _my_deals_page(request, user, form, error=conflict, status=400)
    return _my_deals_page(request, user, CustomerForm(countries=countries))


def _my_deals_page(
    request: HttpRequest, user: User, form: CustomerForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    now = _now()
    page = _page(request, selectors.partner_registrations(user))
    rows = []
    for registration in page.object_list:
        open_inquiries = [i for i in registration.inquiries.all() if i.answered_at is None]
        rows.append(
            PartnerRow(
                registration=registration,
                status=_status_words(registration, now),
                poi=_current_poi(registration.pois.all()),
                awaiting_answer=len(open_inquiries),
                overdue=sum(1 for i in open_inquiries if i.overdue(now)),
                outcome=_partner_outcome(registration),
            )
        )
    return render(
        request,
        "deals/my_deals.html",
        {
            "page": page,
            "rows": rows,
            "form": form,
            "organisation": user.organisation,
            "error": error,
        },
        status=status,
    )


# --- Partner: one registration ---------------------------------------------------------------


@dataclass
class InquiryRow:
    inquiry: Inquiry
    overdue: bool
    form: AnswerForm | AskForm | None = None


@login_required
@require_GET
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    registration = selectors.get_registration(user, pk)
    if not user.is_partner_user:
        # Staff work on the deal page, where every partner on the deal is listed.
        url = reverse("deals-deal", kwargs={"pk": registration.deal_id})
        return redirect(f"{url}#registration-{registration.pk}")
    return _registration_page(request, registration)


def _registration_page(
    request: HttpRequest,
    registration: Registration,
    *,
    overrides: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    overrides = overrides or {}
    now = _now()
    deal = registration.deal
    pois = list(registration.pois.order_by("-created_at", "-id"))
    poi = _current_poi(pois)
    quote = selectors.current_quote(deal)
    quote_lines = [
        (line.product_line_id, line.product_line.name)
        for line in (quote.lines.all() if quote else [])
    ]
    deal_open = deal.status == Deal.Status.OPEN
    active = registration.status in Registration.ACTIVE_STATUSES
    is_provider = registration.organisation.kind == Organisation.Kind.PROVIDER
    can_accept = (
        deal_open
        and registration.status == Registration.Status.INVITED
        and registration.expires_at is not None
        and registration.expires_at > now
    )
    can_manual_poi = (
        deal_open and active and poi is not None and poi.status == Poi.Status.REJECTED and quote
    )
    can_refer = deal_open and active and registration.motion == "partner_sourced"
    can_acknowledge = (
        deal_open
        and registration.referred_by_id is not None
        and registration.acknowledged_secondary_at is None
    )
    answer_forms: Mapping[int, AnswerForm] = overrides.get("answer_forms", {})
    inquiries = [
        InquiryRow(
            inquiry=inquiry,
            overdue=inquiry.overdue(now),
            form=(answer_forms.get(inquiry.pk) or AnswerForm(auto_id=f"id_inquiry{inquiry.pk}_%s"))
            if inquiry.answered_at is None
            else None,
        )
        for inquiry in registration.inquiries.order_by("-asked_at", "-id")
    ]
    referred = (
        list(
            registration.referrals.order_by("created_at").values_list("organisation_id", flat=True)
        )
        if registration.motion == "partner_sourced"
        else []
    )
    context = {
        "registration": registration,
        "deal": deal,
        "status_words": _status_words(registration, now),
        "outcome": _partner_outcome(registration),
        "poi": poi,
        "poi_link": _poi_link(poi),
        "poi_lines": [rules.product_line_label(code) for code in poi.product_lines] if poi else [],
        "earlier_pois": [p for p in pois if p is not poi],
        "quote": quote,
        "can_accept": can_accept,
        "can_manual_poi": can_manual_poi,
        "can_refer": can_refer,
        "can_acknowledge": can_acknowledge,
        "manual_poi_form": overrides.get("manual_poi_form")
        or ManualPoiForm(quote_lines=quote_lines, is_provider=is_provider),
        "referral_form": overrides.get("referral_form") or ReferralForm(),
        "acknowledge_form": overrides.get("acknowledge_form") or AcknowledgeForm(),
        "inquiries": inquiries,
        "referred": referred,
        "error": error,
    }
    return render(request, "deals/registration.html", context, status=status)


def _own_registration(request: HttpRequest, pk: int) -> tuple[User, Registration]:
    """The caller's registration (404 for anyone else's), for a partner action (403 for staff
    who can see it)."""
    user = acting_user(request)
    registration = selectors.get_registration(user, pk)
    access.require(user, DealAction.REGISTER, registration.organisation)
    return user, registration


@login_required
@require_POST
def registration_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user, registration = _own_registration(request, pk)
    try:
        services.invitation_accept(actor=user, registration=registration)
    except (ValidationError, StateConflict) as exc:
        return _registration_page(request, registration, error=_error_text(exc), status=400)
    messages.success(request, "Invitation accepted: you are now on this deal.")
    return redirect("deals-registration", pk=registration.pk)


@login_required
@require_POST
def registration_poi(request: HttpRequest, pk: int) -> HttpResponse:
    """A manual POI, after the customer rejected the current one."""
    user, registration = _own_registration(request, pk)
    quote = selectors.current_quote(registration.deal)
    form = ManualPoiForm(
        request.POST,
        quote_lines=[(line.product_line_id, line.product_line.name) for line in quote.lines.all()]
        if quote
        else [],
        is_provider=registration.organisation.kind == Organisation.Kind.PROVIDER,
    )
    poi, conflict = _submit(
        form,
        lambda data: services.manual_poi_create(
            actor=user,
            registration=registration,
            product_lines=data["lines"],
            provides_onboarding=data["provides_onboarding"],
        ),
    )
    if poi is not None:
        messages.success(
            request,
            "New proof-of-involvement link created: copy it and send it to the customer.",
        )
        return redirect("deals-registration", pk=registration.pk)
    return _registration_page(
        request, registration, overrides={"manual_poi_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def registration_referral(request: HttpRequest, pk: int) -> HttpResponse:
    user, registration = _own_registration(request, pk)
    form = ReferralForm(request.POST)
    referred, conflict = _submit(
        form,
        lambda data: services.referral_create(
            actor=user, registration=registration, partner_id=data["partner"]
        ),
    )
    if referred is not None:
        messages.success(
            request,
            f"Referral recorded. Partner #{form.cleaned_data['partner']} must now acknowledge "
            "in its portal that it is the secondary partner.",
        )
        return redirect("deals-registration", pk=registration.pk)
    return _registration_page(
        request, registration, overrides={"referral_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def registration_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user, registration = _own_registration(request, pk)
    form = AcknowledgeForm(request.POST)
    acknowledged, conflict = _submit(
        form,
        lambda data: services.secondary_acknowledge(
            actor=user, registration=registration, statement=data["statement"]
        ),
    )
    if acknowledged is not None:
        messages.success(request, "Acknowledgement recorded: you are on this deal.")
        return redirect("deals-registration", pk=registration.pk)
    return _registration_page(
        request, registration, overrides={"acknowledge_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def inquiry_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    inquiry = selectors.get_inquiry(user, pk)
    access.require(user, DealAction.REGISTER, inquiry.registration.organisation)
    registration = selectors.get_registration(user, inquiry.registration_id)
    form = AnswerForm(request.POST, auto_id=f"id_inquiry{inquiry.pk}_%s")
    answered, conflict = _submit(
        form,
        lambda data: services.inquiry_answer(actor=user, inquiry=inquiry, answer=data["answer"]),
    )
    if answered is not None:
        messages.success(request, "Answer sent to the growth specialist.")
        return redirect("deals-registration", pk=registration.pk)
    return _registration_page(
        request,
        registration,
        overrides={"answer_forms": {inquiry.pk: form}},
        error=conflict,
        status=400,
    )


# --- Growth specialists and partner ops: the workspace ---------------------------------------


@login_required
@require_GET
def workspace(request: HttpRequest) -> HttpResponse:
    """Pending Partner Sourced requests in the caller's territory, open deals, new deal."""
    user = acting_user(request)
    access.require(user, DealAction.VIEW)
    return _workspace_page(request, user)


def _workspace_page(
    request: HttpRequest,
    user: User,
    *,
    create_form: CustomerForm | None = None,
    decision_forms: Mapping[int, DecisionForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_manage = access.can(user, DealAction.MANAGE)
    queue = (
        selectors.visible_registrations(user)
        .filter(
            status=Registration.Status.PENDING_APPROVAL,
            motion="partner_sourced",
            deal__status=Deal.Status.OPEN,
        )
        .select_related("deal__customer__country", "deal__growth_specialist", "organisation")
        .order_by("created_at", "id")
    )
    queue_page = _page(request, queue, "qpage")
    decision_forms = decision_forms or {}
    requests = [
        (r, decision_forms.get(r.pk) or DecisionForm(auto_id=f"id_decide{r.pk}_%s"))
        for r in queue_page.object_list
    ]
    deals = (
        selectors.visible_deals(user)
        .filter(status=Deal.Status.OPEN)
        .select_related("customer__country", "growth_specialist")
        .annotate(
            partner_count=Count(
                "registrations",
                filter=Q(registrations__status__in=Registration.OPEN_STATUSES),
                distinct=True,
            ),
            pending_count=Count(
                "registrations",
                filter=Q(registrations__status=Registration.Status.PENDING_APPROVAL),
                distinct=True,
            ),
            quote_version=Max("quote_versions__number"),
        )
        .order_by("-created_at", "-id")
    )
    deals_page = _page(request, deals)
    awaiting = selectors.visible_deals(user).filter(status=Deal.Status.AWAITING_DECISION).count()
    return render(
        request,
        "deals/workspace.html",
        {
            "queue_page": queue_page,
            "requests": requests,
            "deals_page": deals_page,
            "awaiting": awaiting,
            "can_manage": can_manage,
            "can_decide": access.can(user, DealAction.DECIDE),
            "create_form": create_form
            or (CustomerForm(countries=_countries(), auto_id="id_new_%s") if can_manage else None),
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def deal_create(request: HttpRequest) -> HttpResponse:
    """A vendor-owned deal (Partner Assisted): partners are then invited to it."""
    user = acting_user(request)
    access.require(user, DealAction.MANAGE)
    form = CustomerForm(request.POST, countries=_countries(), auto_id="id_new_%s")
    deal, conflict = _submit(form, lambda data: services.deal_create(actor=user, **data))
    if deal is not None:
        messages.success(
            request, f"Deal opened on {deal.customer.domain}. Invite partners and quote it."
        )
        return redirect("deals-deal", pk=deal.pk)
    return _workspace_page(request, user, create_form=form, error=conflict, status=400)


@login_required
@require_POST
def registration_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The GS approves or rejects a Partner Sourced request (from the workspace or the deal)."""
    user = acting_user(request)
    registration = selectors.get_registration(user, pk)
    access.require(user, DealAction.MANAGE)
    form = DecisionForm(request.POST, auto_id=f"id_decide{registration.pk}_%s")
    from_deal = request.POST.get("from") == "deal"
    decided, conflict = _submit(
        form,
        lambda data: services.registration_decide(
            actor=user,
            registration=registration,
            approve=data["decision"] == "approve",
            note=data["note"],
        ),
    )
    if decided is not None:
        approve = form.cleaned_data["decision"] == "approve"
        messages.success(
            request,
            f"{'Approved' if approve else 'Rejected'} {registration.organisation.name} on "
            f"{registration.registered_domain}.",
        )
        if from_deal:
            return redirect("deals-deal", pk=registration.deal_id)
        return redirect("deals-workspace")
    if from_deal:
        return _deal_page(
            request,
            user,
            registration.deal_id,
            overrides={"decision_forms": {registration.pk: form}},
            error=conflict,
            status=400,
        )
    return _workspace_page(
        request, user, decision_forms={registration.pk: form}, error=conflict, status=400
    )


# --- The deal page ---------------------------------------------------------------------------


@dataclass
class RegistrationRow:
    registration: Registration
    status: str
    poi: Poi | None
    poi_link: str
    poi_version: int | None
    referred_by: str
    inquiries: list[InquiryRow] = field(default_factory=list)
    decision_form: DecisionForm | None = None
    ask_form: AskForm | None = None


@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _deal_page(request, acting_user(request), pk)


def _deal_page(
    request: HttpRequest,
    user: User,
    pk: object,
    *,
    overrides: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    overrides = overrides or {}
    now = _now()
    deal = selectors.deal_detail(user, pk)
    can_manage = access.can(user, DealAction.MANAGE) and deal.status == Deal.Status.OPEN
    registrations = list(deal.registrations.all())
    by_id = {r.pk: r for r in registrations}
    quotes: list[QuoteVersion] = list(deal.quote_versions.all())
    quote = quotes[0] if quotes else None
    versions = {q.pk: q.number for q in quotes}
    decision_forms: Mapping[int, DecisionForm] = overrides.get("decision_forms", {})
    ask_forms: Mapping[int, AskForm] = overrides.get("ask_forms", {})
    rows = []
    for registration in registrations:
        poi = _current_poi(registration.pois.all())
        referrer = by_id.get(registration.referred_by_id or 0)
        pending = registration.status == Registration.Status.PENDING_APPROVAL
        rows.append(
            RegistrationRow(
                registration=registration,
                status=_status_words(registration, now),
                poi=poi,
                poi_link=_poi_link(poi),
                poi_version=versions.get(poi.quote_id) if poi else None,
                referred_by=referrer.organisation.name if referrer else "",
                inquiries=[InquiryRow(i, i.overdue(now)) for i in registration.inquiries.all()],
                decision_form=(
                    decision_forms.get(registration.pk)
                    or DecisionForm(auto_id=f"id_decide{registration.pk}_%s")
                )
                if can_manage and pending
                else None,
                ask_form=(
                    ask_forms.get(registration.pk) or AskForm(auto_id=f"id_ask{registration.pk}_%s")
                )
                if can_manage and registration.status in Registration.OPEN_STATUSES
                else None,
            )
        )
    on_deal = {r.organisation_id for r in registrations if r.status in Registration.OPEN_STATUSES}
    context: dict[str, Any] = {
        "deal": deal,
        "rows": rows,
        "quote": quote,
        "history": quotes[1:],
        "can_manage": can_manage,
        "error": error,
    }
    if can_manage:
        choices = _line_choices()
        context["invite_form"] = overrides.get("invite_form") or InviteForm(
            partners=[
                (o.pk, o.name)
                for o in access.visible_organisations(user).order_by("name")
                if o.pk not in on_deal
            ]
        )
        context["quote_form"] = overrides.get("quote_form") or QuoteForm(
            initial={"expected_close_date": deal.expected_close_date}
        )
        context["formset"] = overrides.get("formset") or QuoteLineFormSet(
            prefix="lines",
            initial=[
                {
                    "product_line": line.product_line_id,
                    "edition": line.edition_id or "",
                    "seats": line.seats,
                    "mrr": line.mrr,
                    "currency": line.currency_id,
                    "discount_pct": line.discount_pct or None,
                    "discount_approval": line.discount_approval,
                }
                for line in (quote.lines.all() if quote else [])
            ],
            form_kwargs=choices,
        )
        if quote is not None:
            context["close_form"] = overrides.get("close_form") or _close_form(
                deal,
                registrations,
                quote,
                initial={
                    "purchase_domain": deal.customer.domain,
                    "close_date": timezone.localdate(),
                },
            )
    if deal.status != Deal.Status.OPEN:
        context["resolution"] = _resolution(deal, by_id)
    if deal.status == Deal.Status.AWAITING_DECISION and access.can(user, DealAction.DECIDE):
        context["decide_form"] = overrides.get("decide_form") or DecideForm(
            tied=_tied_choices(deal, by_id)
        )
    return render(request, "deals/deal.html", context, status=status)


def _close_form(
    deal: Deal,
    registrations: Iterable[Registration],
    quote: QuoteVersion,
    data: Any = None,
    initial: Mapping[str, Any] | None = None,
) -> CloseForm:
    partners: dict[int, str] = {}
    for registration in registrations:
        partners.setdefault(registration.organisation_id, registration.organisation.name)
    return CloseForm(
        data,
        initial=initial,
        quote_lines=[
            (line.product_line_id, line.product_line.name, line.mrr) for line in quote.lines.all()
        ],
        partners=sorted(partners.items(), key=lambda item: item[1]),
    )


def _tied_choices(deal: Deal, by_id: Mapping[int, Registration]) -> list[tuple[str, str]]:
    tied = (deal.resolution_detail or {}).get("tied", [])
    return [
        (
            str(rid),
            f"{by_id[rid].organisation.name} "
            f"(registration #{rid}, {by_id[rid].get_motion_display()})",
        )
        for rid in tied
        if rid in by_id
    ]


def _resolution(deal: Deal, by_id: Mapping[int, Registration]) -> dict[str, Any]:
    detail = deal.resolution_detail or {}

    def name(rid: int) -> str:
        registration = by_id.get(rid)
        return registration.organisation.name if registration else f"registration #{rid}"

    return {
        "rule": deal.resolution_rule,
        "rule_words": RESOLUTION_WORDS.get(deal.resolution_rule, deal.resolution_rule),
        "winner": deal.winner,
        "explanation": deal.resolution_explanation,
        "candidates": [name(rid) for rid in detail.get("candidates", [])],
        "tied": [name(rid) for rid in detail.get("tied", [])],
        "excluded": [
            (name(rid), rule, EXCLUSION_WORDS.get(rule, rule))
            for rid, rule in detail.get("excluded", [])
        ],
        "lines": [
            (line, ELIGIBILITY_WORDS.get(line.eligibility_rule, line.eligibility_rule))
            for line in deal.purchased_lines.all()
        ],
    }


def _deal_for_action(request: HttpRequest, pk: int, action: DealAction) -> tuple[User, Deal]:
    user = acting_user(request)
    deal = selectors.get_deal(user, pk)
    access.require(user, action)
    return user, deal


@login_required
@require_POST
def deal_invite(request: HttpRequest, pk: int) -> HttpResponse:
    user, deal = _deal_for_action(request, pk, DealAction.MANAGE)
    partners = list(access.visible_organisations(user).order_by("name").values_list("pk", "name"))
    form = InviteForm(request.POST, partners=partners)
    registration, conflict = _submit(
        form,
        lambda data: services.invitation_create(actor=user, deal=deal, partner_id=data["partner"]),
    )
    if registration is not None:
        messages.success(
            request,
            f"{registration.organisation.name} invited: it has until "
            f"{registration.expires_at:%d %b %Y %H:%M} UTC to accept.",
        )
        return redirect("deals-deal", pk=deal.pk)
    return _deal_page(
        request, user, deal.pk, overrides={"invite_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def deal_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a new quote version; the "Add a line" button only re-renders with one more row."""
    user, deal = _deal_for_action(request, pk, DealAction.MANAGE)
    choices = _line_choices()
    data = request.POST.copy()
    adding = "add_line" in data
    if adding:
        try:
            total = int(data.get("lines-TOTAL_FORMS", "0"))
        except ValueError:
            total = 0
        data["lines-TOTAL_FORMS"] = str(min(total, 50) + 1)
    formset = QuoteLineFormSet(data, prefix="lines", form_kwargs=choices)
    quote_form = QuoteForm(data)
    overrides = {"formset": formset, "quote_form": quote_form}
    if adding:
        return _deal_page(request, user, deal.pk, overrides=overrides)
    quote: QuoteVersion | None = None
    conflict = ""
    if formset.is_valid():
        rows = [(index, form.as_line()) for index, form in enumerate(formset.forms)]
        kept = [(index, line) for index, line in rows if line is not None]
        quote, conflict = _submit(
            quote_form,
            lambda data: services.quote_save(
                actor=user,
                deal=deal,
                lines=[line for _, line in kept],
                expected_close_date=data.get("expected_close_date"),
            ),
            on_error=lambda exc: _apply_line_errors(
                exc, formset, quote_form, [index for index, _ in kept]
            ),
        )
    if quote is not None:
        links = quote.pois.count()
        messages.success(
            request,
            f"Quote version {quote.number} saved. "
            + (
                f"{links} proof-of-involvement link{'s' if links != 1 else ''} generated: "
                "send each partner its link (below) or let the partners send theirs."
                if links
                else "No partner is active on the deal yet, so no POI link was generated."
            ),
        )
        return redirect(reverse("deals-deal", kwargs={"pk": deal.pk}) + "#pois")
    return _deal_page(request, user, deal.pk, overrides=overrides, error=conflict, status=400)


def _apply_line_errors(
    exc: ValidationError,
    formset: django_forms.BaseFormSet,
    quote_form: QuoteForm,
    form_index: list[int],
) -> None:
    """Put `lines[i].field` messages on the formset row they came from."""
    if not hasattr(exc, "error_dict"):
        apply_errors(quote_form, exc)
        return
    errors = {key: list(value) for key, value in exc.message_dict.items()}
    rule = errors.pop("rule", None)
    suffix = f" (rule: {rule[0]})" if rule else ""
    for key, messages_ in errors.items():
        match = _LINE_KEY.match(key)
        for message in messages_:
            if match and int(match.group(1)) < len(form_index):
                row = formset.forms[form_index[int(match.group(1))]]
                name = match.group(2)
                row.add_error(name if name in row.fields else None, message + suffix)
            else:
                quote_form.add_error(key if key in quote_form.fields else None, message + suffix)
            suffix = ""


@login_required
@require_POST
def deal_close(request: HttpRequest, pk: int) -> HttpResponse:
    user, deal = _deal_for_action(request, pk, DealAction.MANAGE)
    detail = selectors.deal_detail(user, deal.pk)
    quotes = list(detail.quote_versions.all())
    if not quotes:
        return _deal_page(
            request, user, deal.pk, error="Save a quote before closing the deal.", status=400
        )
    form = _close_form(detail, detail.registrations.all(), quotes[0], data=request.POST)
    lines = form.lines() if form.is_valid() else []
    closed, conflict = _submit(
        form,
        lambda data: services.deal_close(
            actor=user,
            deal=deal,
            purchase_domain=data["purchase_domain"],
            close_date=data["close_date"],
            lines=lines,
            onboarding_partner=data["onboarding_partner"] or None,
        ),
        on_error=lambda exc: _apply_close_errors(exc, form, lines),
    )
    if closed is not None:
        messages.success(
            request,
            f"Deal closed. {RESOLUTION_WORDS.get(closed.resolution_rule, closed.resolution_rule)}.",
        )
        return redirect(reverse("deals-deal", kwargs={"pk": deal.pk}) + "#resolution")
    return _deal_page(
        request, user, deal.pk, overrides={"close_form": form}, error=conflict, status=400
    )


def _apply_close_errors(exc: ValidationError, form: CloseForm, lines: list[dict[str, Any]]) -> None:
    if not hasattr(exc, "error_dict"):
        apply_errors(form, exc)
        return
    rename = {}
    for key in exc.message_dict:
        match = _LINE_KEY.match(key)
        if match and int(match.group(1)) < len(lines):
            code = lines[int(match.group(1))]["product_line"]
            rename[key] = f"mrr_{code}" if match.group(2) == "mrr" else f"buy_{code}"
    apply_errors(form, exc, rename=rename)


@login_required
@require_POST
def deal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Partner ops settle a tie (from the ties queue or the deal page)."""
    user, deal = _deal_for_action(request, pk, DealAction.DECIDE)
    tied_ids = (deal.resolution_detail or {}).get("tied", [])
    by_id = {
        r.pk: r
        for r in selectors.visible_registrations(user)
        .filter(pk__in=tied_ids)
        .select_related("organisation")
    }
    from_ties = request.POST.get("from") == "ties"
    form = DecideForm(
        request.POST,
        tied=_tied_choices(deal, by_id),
        auto_id=f"id_tie{deal.pk}_%s" if from_ties else "id_%s",
    )
    decided, conflict = _submit(
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
    return _deal_page(
        request, user, deal.pk, overrides={"decide_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def inquiry_ask(request: HttpRequest, pk: int) -> HttpResponse:
    """The GS asks a partner on the deal a question (answer due in 48 business hours)."""
    user = acting_user(request)
    registration = selectors.get_registration(user, pk)
    access.require(user, DealAction.MANAGE)
    form = AskForm(request.POST, auto_id=f"id_ask{registration.pk}_%s")
    inquiry, conflict = _submit(
        form,
        lambda data: services.inquiry_ask(
            actor=user, registration=registration, question=data["question"]
        ),
    )
    if inquiry is not None:
        messages.success(
            request,
            f"Question sent to {registration.organisation.name}: the answer is due by "
            f"{inquiry.answer_due_at:%a %d %b %Y %H:%M} UTC.",
        )
        url = reverse("deals-deal", kwargs={"pk": registration.deal_id})
        return redirect(f"{url}#registration-{registration.pk}")
    return _deal_page(
        request,
        user,
        registration.deal_id,
        overrides={"ask_forms": {registration.pk: form}},
        error=conflict,
        status=400,
    )


# --- Partner ops: ties to decide -------------------------------------------------------------


@dataclass
class TieRow:
    deal: Deal
    tied: list[tuple[Registration, Poi | None]]
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
    deals = (
        selectors.visible_deals(user)
        .filter(status=Deal.Status.AWAITING_DECISION)
        .select_related("customer__country", "growth_specialist")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.select_related("organisation").order_by("id"),
            ),
            Prefetch("registrations__pois", queryset=Poi.objects.order_by("-created_at", "-id")),
        )
        .order_by("closed_at", "id")
    )
    page = _page(request, deals)
    rows = []
    for deal in page.object_list:
        by_id = {r.pk: r for r in deal.registrations.all()}
        tied_ids = (deal.resolution_detail or {}).get("tied", [])
        rows.append(
            TieRow(
                deal=deal,
                tied=[
                    (by_id[rid], _current_poi(by_id[rid].pois.all()))
                    for rid in tied_ids
                    if rid in by_id
                ],
                form=forms.get(deal.pk)
                or DecideForm(tied=_tied_choices(deal, by_id), auto_id=f"id_tie{deal.pk}_%s"),
            )
        )
    return render(
        request, "deals/ties.html", {"page": page, "rows": rows, "error": error}, status=status
    )


# --- The customer's POI page -----------------------------------------------------------------


@csrf_protect
@require_http_methods(["GET", "POST"])
def poi_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's proof-of-involvement page: no account, the signed link is the key.
    Shows who is asking and for which products; approve or reject once."""
    try:
        poi = services.poi_from_token(token)
    except services.PoiLinkError:
        return _link_problem(request, "invalid", status=404)
    if request.method == "POST":
        try:
            poi = services.poi_decide(token=token, decision=request.POST.get("decision", ""))
        except services.PoiLinkError as exc:
            return _link_problem(request, exc.reason, poi=poi, status=410)
        except services.ValidationError:
            return _render(request, poi, error="Choose approve or reject.", status=400)
        return _render(request, poi, answered_now=True)
    problem = services.poi_link_problem(poi)
    if problem is not None:
        return _link_problem(request, problem, poi=poi, status=410)
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
            "partner": registration.organisation,
            "customer": registration.deal.customer,
            "lines": [lines[code] for code in poi.product_lines if code in lines],
            "answered_now": answered_now,
            "error": error,
        },
        status=status,
    )


def _link_problem(
    request: HttpRequest, reason: str, *, poi: Poi | None = None, status: int
) -> HttpResponse:
    return render(
        request,
        "deals/poi_problem.html",
        {"message": services.POI_LINK_PROBLEMS[reason], "reason": reason, "poi": poi},
        status=status,
    )
