"""Staff pages: the workspace (Partner Sourced requests, open deals, a new vendor-owned deal)
and the deal page (partners, POI links, quote, questions, close, resolution) with its forms.
Growth specialists act; partner ops read (and decide ties, `views.ops`)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from partnerportal.core import access, pagecache
from partnerportal.core.access import acting_user
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import Role, User

from .. import inputs, presenters, selectors, services
from ..forms import (
    AskForm,
    CloseForm,
    CustomerForm,
    DecideForm,
    DecisionForm,
    InviteForm,
    QuoteForm,
    QuoteLineFormSet,
    apply_errors,
    quote_lines,
)
from ..inputs import ClosedLineInput
from ..models import Deal, Poi, QuoteVersion, Registration
from ..permissions import DealAction
from ._common import BLANK_FORM_SECONDS, blank_customer_form, page_of, poi_link, submit
from .partner import InquiryRow

_LINE_KEY = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


# --- The workspace ---------------------------------------------------------------------------


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
    """The workspace; the forms and error of a refused submission, none for the plain page.

    The plain page's body is kept under the data version (`core.pagecache`), for its user
    (their territories and role): nothing on it reads differently as time passes. A
    submission's page is rendered each time."""
    submitted = create_form is not None or bool(decision_forms) or bool(error)
    pages = None if submitted else pagecache.plain_pages(request, "qpage", "page")
    slot, body = pagecache.lookup(
        request, "deals-workspace", user.pk, user.role, pages, keep=pages is not None
    )
    if body is None:
        body = pagecache.render(
            request,
            slot,
            "deals/_workspace_body.html",
            _workspace_context(
                request, user, create_form=create_form, decision_forms=decision_forms or {}
            )
            | {"error": error},
        )
    return render(request, "deals/workspace.html", {"body": body}, status=status)


def _workspace_context(
    request: HttpRequest,
    user: User,
    *,
    create_form: CustomerForm | None,
    decision_forms: Mapping[int, DecisionForm],
) -> dict[str, Any]:
    can_manage = access.can(user, DealAction.MANAGE)
    can_decide = access.can(user, DealAction.DECIDE)
    queue_page = page_of(request, selectors.pending_requests(user), "qpage")
    requests = [
        (r, decision_forms.get(r.pk) or DecisionForm(auto_id=f"id_decide{r.pk}_%s"))
        for r in queue_page.object_list
    ]
    return {
        "queue_page": queue_page,
        "requests": requests,
        "deals_page": page_of(request, selectors.open_deals(user)),
        # Only those who decide ties see how many await them.
        "awaiting": selectors.awaiting_decision_count(user) if can_decide else 0,
        "can_manage": can_manage,
        "can_decide": can_decide,
        "territory_words": (
            "your territory" if user.role == Role.GROWTH_SPECIALIST else "every territory"
        ),
        # The blank form is built only when its cached fragment is missing (_common).
        "create_form": create_form
        or (blank_customer_form(auto_id="id_new_%s") if can_manage else None),
        "show_create_form": create_form is not None or can_manage,
        "create_form_bound": create_form is not None,
        "create_form_cache_seconds": 0 if create_form is not None else BLANK_FORM_SECONDS,
    }


@login_required
@require_POST
def deal_create(request: HttpRequest) -> HttpResponse:
    """A vendor-owned deal (Partner Assisted): partners are then invited to it."""
    user = acting_user(request)
    access.require(user, DealAction.MANAGE)
    form = CustomerForm(request.POST, countries=selectors.country_choices(), auto_id="id_new_%s")
    deal, conflict = submit(form, lambda data: services.deal_create(actor=user, **data))
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
    decided, conflict = submit(
        form,
        lambda data: services.registration_decide(
            actor=user, registration=registration, approve=form.approve(), note=data["note"]
        ),
    )
    if decided is not None:
        messages.success(
            request,
            f"{'Approved' if form.approve() else 'Rejected'} {registration.organisation.name} "
            f"on {registration.registered_domain}.",
        )
        if from_deal:
            return redirect("deals-deal", pk=registration.deal_id)
        return redirect("deals-workspace")
    if from_deal:
        return deal_page(
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
    invited_until: Any = None  # the expiry of an open invitation
    inquiries: list[InquiryRow] = field(default_factory=list)
    decision_form: DecisionForm | None = None
    ask_form: AskForm | None = None


@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return deal_page(request, acting_user(request), pk)


def deal_page(
    request: HttpRequest,
    user: User,
    pk: object,
    *,
    overrides: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The deal page; `overrides` are forms as submitted, to show again with their errors."""
    overrides = overrides or {}
    now = timezone.now()
    deal = selectors.deal_detail(user, pk)
    can_manage = access.can(user, DealAction.MANAGE) and deal.is_open
    registrations = list(deal.registrations.all())
    by_id = {r.pk: r for r in registrations}
    quotes: list[QuoteVersion] = list(deal.quote_versions.all())
    quote = quotes[0] if quotes else None
    versions = {q.pk: q.number for q in quotes}
    decision_forms: Mapping[int, DecisionForm] = overrides.get("decision_forms", {})
    ask_forms: Mapping[int, AskForm] = overrides.get("ask_forms", {})
    rows = []
    for registration in registrations:
        poi = selectors.choose_current_poi(registration.pois.all())
        referrer = by_id.get(registration.referred_by_id or 0)
        pending = registration.status == Registration.Status.PENDING_APPROVAL
        rows.append(
            RegistrationRow(
                registration=registration,
                status=presenters.registration_status_words(registration, now),
                poi=poi,
                poi_link=poi_link(request, poi),
                poi_version=versions.get(poi.quote_id) if poi else None,
                referred_by=referrer.organisation.name if referrer else "",
                invited_until=registration.expires_at
                if registration.status == Registration.Status.INVITED
                else None,
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
    awaiting = deal.status == Deal.Status.AWAITING_DECISION
    context: dict[str, Any] = {
        "deal": deal,
        "rows": rows,
        "quote": quote,
        "history": quotes[1:],
        "can_manage": can_manage,
        "awaiting_decision": awaiting,
        "error": error,
    }
    if can_manage:
        context["invite_form"] = overrides.get("invite_form") or InviteForm(
            partners=selectors.partner_choices(user, exclude=on_deal)
        )
        context["quote_form"] = overrides.get("quote_form") or QuoteForm(
            initial={"expected_close_date": deal.expected_close_date}, **_expected_close_bounds()
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
            form_kwargs=selectors.quote_line_choices(),
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
            context["close_preview"] = overrides.get("close_preview")
    if not deal.is_open:
        context["resolution"] = _resolution(deal, by_id)
    if awaiting and access.can(user, DealAction.DECIDE):
        context["decide_form"] = overrides.get("decide_form") or DecideForm(
            tied=tied_choices(deal, by_id)
        )
    return render(request, "deals/deal.html", context, status=status)


def _expected_close_bounds() -> dict[str, date]:
    today = timezone.localdate()
    return {
        "earliest": today,
        "latest": today + timedelta(days=services.expected_close_horizon_days()),
    }


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
        earliest=timezone.localdate(deal.created_at),
        latest=timezone.localdate(),
    )


def tied_choices(deal: Deal, by_id: Mapping[int, Registration]) -> list[tuple[str, str]]:
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
        "rule_words": presenters.rule_words(deal.resolution_rule),
        "winner": deal.winner,
        "explanation": deal.resolution_explanation,
        "candidates": [name(rid) for rid in detail.get("candidates", [])],
        "tied": [name(rid) for rid in detail.get("tied", [])],
        "excluded": [
            (name(rid), rule, presenters.rule_words(rule))
            for rid, rule in detail.get("excluded", [])
        ],
        "lines": [
            (
                line,
                *presenters.line_credit_badge(
                    eligible=line.credited,
                    has_winner=deal.winner_id is not None,
                    awaiting=deal.status == Deal.Status.AWAITING_DECISION,
                ),
                presenters.rule_words(line.eligibility_rule),
            )
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
    form = InviteForm(request.POST, partners=selectors.partner_choices(user))
    registration, conflict = submit(
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
    return deal_page(
        request, user, deal.pk, overrides={"invite_form": form}, error=conflict, status=400
    )


@login_required
@require_POST
def deal_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a new quote version; the "Add a line" button only re-renders with one more row."""
    user, deal = _deal_for_action(request, pk, DealAction.MANAGE)
    data = request.POST.copy()
    adding = "add_line" in data
    if adding:
        try:
            total = int(data.get("lines-TOTAL_FORMS", "0"))
        except ValueError:
            total = 0
        data["lines-TOTAL_FORMS"] = str(min(total + 1, inputs.QUOTE_LINES_MAX))
    formset = QuoteLineFormSet(data, prefix="lines", form_kwargs=selectors.quote_line_choices())
    quote_form = QuoteForm(data)
    overrides = {"formset": formset, "quote_form": quote_form}
    if adding:
        return deal_page(request, user, deal.pk, overrides=overrides)
    quote: QuoteVersion | None = None
    conflict = ""
    if formset.is_valid():
        kept = quote_lines(formset)
        quote, conflict = submit(
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
        links = selectors.pending_pois(quote).count()
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
    return deal_page(request, user, deal.pk, overrides=overrides, error=conflict, status=400)


def _apply_line_errors(
    exc: InvalidInput,
    formset: django_forms.BaseFormSet,  # type: ignore[type-arg]
    quote_form: QuoteForm,
    form_index: list[int],
) -> None:
    """Put `lines[i].field` messages on the formset row they came from, the others on the
    quote form; the refused rule is said after the first message."""
    suffix = f" {presenters.refused_by(exc.rule)}" if exc.rule else ""
    for key, messages_ in exc.errors.items():
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
    """Close in two steps: the form shows what Best Partner Wins would decide (a dry run of the
    same service, nothing written), then the close of exactly what was shown is confirmed. A
    confirmation of anything else (the form changed, or the outcome did since) shows the new
    preview instead."""
    user, deal = _deal_for_action(request, pk, DealAction.MANAGE)
    detail = selectors.deal_detail(user, deal.pk)
    quotes = list(detail.quote_versions.all())
    if not quotes:
        return deal_page(
            request, user, deal.pk, error="Save a quote before closing the deal.", status=400
        )
    form = _close_form(detail, detail.registrations.all(), quotes[0], data=request.POST)

    def on_error(exc: InvalidInput) -> None:
        apply_errors(form, exc, rename={key: form.line_field(key) or key for key in exc.errors})

    def close_kwargs(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "purchase_domain": data["purchase_domain"],
            "close_date": data["close_date"],
            "lines": form.lines(),
            "onboarding_partner": data["onboarding_partner"],
            "domain_mismatch_reason": data["domain_mismatch_reason"],
        }

    plan, conflict = submit(
        form,
        lambda data: services.deal_close_preview(actor=user, deal=deal, **close_kwargs(data)),
        on_error=on_error,
    )
    if plan is None:
        return deal_page(
            request, user, deal.pk, overrides={"close_form": form}, error=conflict, status=400
        )
    fingerprint = close_fingerprint(form.lines(), plan)
    confirmed = request.POST.get("confirm") == "1"
    if confirmed and request.POST.get("previewed") == fingerprint:
        closed, conflict = submit(
            form,
            lambda data: services.deal_close(actor=user, deal=deal, **close_kwargs(data)),
            on_error=on_error,
        )
        if closed is not None:
            messages.success(
                request, f"Deal closed. {presenters.rule_words(closed.resolution_rule)}."
            )
            return redirect(reverse("deals-deal", kwargs={"pk": deal.pk}) + "#resolution")
        return deal_page(
            request, user, deal.pk, overrides={"close_form": form}, error=conflict, status=400
        )
    by_id = {r.pk: r for r in detail.registrations.all()}
    preview = presenters.close_preview(plan, by_id, fingerprint=fingerprint, changed=confirmed)
    return deal_page(
        request, user, deal.pk, overrides={"close_form": form, "close_preview": preview}
    )


def close_fingerprint(lines: Iterable[ClosedLineInput], plan: services.ClosePlan) -> str:
    """What a confirmation confirms: the close as previewed (purchase, lines, onboarding choice,
    reason) and the outcome shown. The close goes ahead only if both are still the same."""
    resolution = plan.resolution
    facts = [
        plan.purchase_domain,
        plan.close_date.isoformat(),
        [[line.product_line, str(line.mrr)] for line in lines],
        plan.onboarding_partner.pk if plan.onboarding_partner else None,
        plan.domain_mismatch_reason,
        str(resolution.rule),
        resolution.winner,
        list(resolution.tied),
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:32]


@login_required
@require_POST
def inquiry_ask(request: HttpRequest, pk: int) -> HttpResponse:
    """The GS asks a partner on the deal a question (answer due in 48 business hours)."""
    user = acting_user(request)
    registration = selectors.get_registration(user, pk)
    access.require(user, DealAction.MANAGE)
    form = AskForm(request.POST, auto_id=f"id_ask{registration.pk}_%s")
    inquiry, conflict = submit(
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
    return deal_page(
        request,
        user,
        registration.deal_id,
        overrides={"ask_forms": {registration.pk: form}},
        error=conflict,
        status=400,
    )
