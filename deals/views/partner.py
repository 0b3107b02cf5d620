"""Partner pages: "My deals" (registrations and the registration form) and one registration
(its POI, invitation, referral, acknowledgement and questions to answer).

A partner page shows the partner's own registration only: never a deal id, another partner,
or anything that differs when others are on the same deal. The one exception is public: the
referral steps list partners of the public directory by name (never whether they are on a
deal), and the sourcing partner's page names those it referred.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnerportal.core import access, pagecache
from partnerportal.core.access import acting_user
from partnerportal.core.errors import Forbidden, StateConflict
from partnerportal.core.models import Organisation, User

from .. import inputs, presenters, rules, selectors, services
from ..forms import (
    AcknowledgeForm,
    AnswerForm,
    AskForm,
    CustomerForm,
    DirectorySearchForm,
    ManualPoiForm,
    ReferralForm,
)
from ..models import Inquiry, Poi, Registration
from ..permissions import DealAction
from ._common import BLANK_FORM_SECONDS, blank_customer_form, page_of, poi_link, submit


@dataclass
class PartnerRow:
    registration: Registration
    url: str  # the registration's page
    registered_on: str
    status: str
    poi: Poi | None
    awaiting_answer: int
    overdue: int
    outcome: str  # words, "" while the deal is open
    credited: bool


@dataclass
class InquiryRow:
    inquiry: Inquiry
    overdue: bool
    form: AnswerForm | AskForm | None = None


@login_required
@require_http_methods(["GET", "POST"])
def my_deals(request: HttpRequest) -> HttpResponse:
    """A partner's registrations and the form to register a new deal."""
    user = acting_user(request)
    if not access.can(user, DealAction.REGISTER):
        if request.method == "GET" and access.can(user, DealAction.VIEW):
            return redirect("deals-workspace")
        raise Forbidden("Only partner users register deals.")
    if request.method == "POST":
        form = CustomerForm(request.POST, countries=selectors.country_choices())
        registration, conflict = submit(
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
    return _my_deals_page(request, user, None)


def _outcome_words(registration: Registration) -> str:
    outcome = presenters.partner_outcome(registration)
    return presenters.OUTCOME_WORDS[outcome] if outcome else ""


def _my_deals_page(
    request: HttpRequest,
    user: User,
    form: CustomerForm | None,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The page; `form` is the submitted form, None for the blank one (cached rendering).

    The blank page's body is the same for every user of the organisation: kept under the data
    version (`core.pagecache`) until the first invitation shown lapses or question shown falls
    overdue. A submitted form's page is rendered each time."""
    organisation = user.organisation
    pages = pagecache.plain_pages(request, "page") if form is None else None
    slot, body = pagecache.lookup(
        request, "deals-mine", user.organisation_id, user.role, pages, keep=pages is not None
    )
    if body is None:
        now = timezone.now()
        page = page_of(request, selectors.partner_registrations(user))
        registrations = list(page.object_list)
        pois = selectors.live_pois_of(registrations)
        inquiries = selectors.open_inquiries_of(registrations)
        rows = []
        instants: list[datetime | None] = []  # when a row will read differently
        for registration in registrations:
            open_inquiries = inquiries[registration.pk]
            instants.append(presenters.registration_status_changes_at(registration))
            instants.extend(i.answer_due_at for i in open_inquiries)  # `Inquiry.overdue`
            rows.append(
                PartnerRow(
                    registration=registration,
                    url=reverse("deals-registration", args=[registration.pk]),
                    registered_on=presenters.day_text(registration.created_at),
                    status=presenters.registration_status_words(registration, now),
                    poi=selectors.choose_current_poi(pois[registration.pk]),
                    awaiting_answer=len(open_inquiries),
                    overdue=sum(1 for i in open_inquiries if i.overdue(now)),
                    outcome=_outcome_words(registration),
                    credited=presenters.partner_outcome(registration)
                    is presenters.Outcome.CREDITED,
                )
            )
        body = pagecache.render(
            request,
            slot,
            "deals/_my_deals_body.html",
            {
                "page": page,
                "rows": rows,
                "form": blank_customer_form() if form is None else form,
                # Not read from the form: a blank one is built only when its fragment is not
                # cached.
                "form_bound": form is not None,
                "form_cache_seconds": BLANK_FORM_SECONDS if form is None else 0,
                "organisation": organisation,
                "error": error,
            },
            until=pagecache.first_instant(instants, now),
        )
    return render(request, "deals/my_deals.html", {"body": body}, status=status)


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


def _quote_line_choices(registration: Registration) -> list[tuple[str, str]]:
    quote = selectors.current_quote(registration.deal)
    return [
        (line.product_line_id, line.product_line.name)
        for line in (quote.lines.all() if quote else [])
    ]


def _is_provider(registration: Registration) -> bool:
    return registration.organisation.kind == Organisation.Kind.PROVIDER


def _registration_page(
    request: HttpRequest,
    registration: Registration,
    *,
    overrides: Mapping[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    overrides = overrides or {}
    now = timezone.now()
    deal = registration.deal
    pois = selectors.registration_pois(registration)
    poi = selectors.choose_current_poi(pois)
    link = poi_link(request, poi)
    can_accept = selectors.acceptance_refusal(registration, now=now) is None
    can_manual_poi = selectors.manual_poi_refusal(
        registration
    ) is None and rules.manual_poi_allowed(current_poi_status=poi.status if poi else None)
    answer_forms: Mapping[int, AnswerForm] = overrides.get("answer_forms", {})
    inquiries = [
        InquiryRow(
            inquiry=inquiry,
            overdue=inquiry.overdue(now),
            form=(answer_forms.get(inquiry.pk) or AnswerForm(auto_id=f"id_inquiry{inquiry.pk}_%s"))
            if inquiry.answered_at is None
            else None,
        )
        for inquiry in selectors.registration_inquiries(registration)
    ]
    context = {
        "registration": registration,
        "deal": deal,
        "status_words": presenters.registration_status_words(registration, now),
        "outcome": _outcome_words(registration),
        "credited": presenters.partner_outcome(registration) is presenters.Outcome.CREDITED,
        "next_step": presenters.next_step(
            registration, poi=poi, poi_link=link, can_accept=can_accept
        ),
        "poi": poi,
        "poi_link": link,
        "poi_lines": [rules.product_line_label(code) for code in poi.product_lines] if poi else [],
        "earlier_pois": [p for p in pois if p is not poi],
        "can_accept": can_accept,
        "can_manual_poi": can_manual_poi,
        "can_refer": selectors.referral_refusal(registration) is None,
        "can_acknowledge": selectors.acknowledgement_refusal(registration) is None,
        "manual_poi_form": overrides.get("manual_poi_form")
        or (
            ManualPoiForm(
                quote_lines=_quote_line_choices(registration),
                is_provider=_is_provider(registration),
            )
            if can_manual_poi
            else None
        ),
        "directory_form": DirectorySearchForm(auto_id="id_directory_%s"),
        "acknowledge_form": overrides.get("acknowledge_form") or AcknowledgeForm(),
        "inquiries": inquiries,
        "referrals": selectors.referrals_made(registration),
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
    except StateConflict as exc:
        return _registration_page(request, registration, error=exc.message, status=400)
    messages.success(request, "Invitation accepted: you are now on this deal.")
    return redirect("deals-registration", pk=registration.pk)


@login_required
@require_POST
def registration_poi(request: HttpRequest, pk: int) -> HttpResponse:
    """A manual POI, after the customer rejected the current one."""
    user, registration = _own_registration(request, pk)
    form = ManualPoiForm(
        request.POST,
        quote_lines=_quote_line_choices(registration),
        is_provider=_is_provider(registration),
    )
    poi, conflict = submit(
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
@require_http_methods(["GET", "POST"])
def registration_referral(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer a partner in three steps: find it by name in the public partner directory, read
    its name on the confirmation step, confirm (POST). The answer to the POST is the same
    whatever partner it names (`services.referral_create`)."""
    user, registration = _own_registration(request, pk)
    if request.method == "POST":
        form = ReferralForm(request.POST)
        referred, conflict = submit(
            form,
            lambda data: services.referral_create(
                actor=user, registration=registration, partner_id=data["partner"]
            ),
        )
        if referred is not None:
            messages.success(
                request,
                "Referral recorded. The partner you referred must now acknowledge in its portal "
                "that it is the secondary partner on this deal.",
            )
            return redirect("deals-registration", pk=registration.pk)
        if not conflict and form.errors:
            conflict = " ".join(
                str(message) for messages_ in form.errors.values() for message in messages_
            )
        return _referral_page(request, registration, error=conflict, status=400)
    return _referral_page(request, registration)


def _referral_page(
    request: HttpRequest, registration: Registration, *, error: str = "", status: int = 200
) -> HttpResponse:
    """The directory search, its results, or the confirmation naming the chosen partner."""
    refusal = selectors.referral_refusal(registration)
    chosen: Organisation | None = None
    unknown = False
    results: list[Organisation] = []
    search = DirectorySearchForm(request.GET if "q" in request.GET else None)
    if refusal is None and "partner" in request.GET:
        choice = ReferralForm(request.GET)
        if choice.is_valid() and choice.cleaned_data["partner"] != registration.organisation_id:
            chosen = selectors.listed_partner(choice.cleaned_data["partner"])
        unknown = chosen is None
    elif refusal is None and search.is_bound and search.is_valid():
        results = selectors.directory_search(
            search.cleaned_data["q"],
            exclude=registration.organisation_id,
            limit=inputs.DIRECTORY_RESULTS_MAX,
        )
    context = {
        "registration": registration,
        "refusal": refusal,
        "search": search,
        "results": results,
        "results_max": inputs.DIRECTORY_RESULTS_MAX,
        "chosen": chosen,
        "confirm_form": ReferralForm(initial={"partner": chosen.pk}) if chosen else None,
        "unknown": unknown,
        "error": error,
    }
    return render(request, "deals/referral.html", context, status=status)


@login_required
@require_POST
def registration_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user, registration = _own_registration(request, pk)
    form = AcknowledgeForm(request.POST)
    acknowledged, conflict = submit(
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
    answered, conflict = submit(
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
