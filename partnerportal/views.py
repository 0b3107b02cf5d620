"""Pages of the project package, the composition root: it may call every app; the kernel
(`partnerportal.core`) calls none.

- `home`: each role lands on the page it works from (a partner's dashboard, a growth
  specialist's deals workspace, finance's quarters, the review queue for customer success and
  service acceleration, the partners list for PDMs and partner ops).
- `partner_page`: an organisation as staff see it, with the links and actions of other apps
  (its tier page, partner ops' Elite invitation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accreditations import selectors as accreditation_selectors
from accreditations.permissions import AccreditationAction
from accreditations.presenters import kind_name as accreditation_kind_name
from accreditations.presenters import status_name as accreditation_status_name
from commissions.models import Statement
from commissions.permissions import CommissionAction
from deals import presenters as deal_presenters
from deals import selectors as deal_selectors
from deals.models import Deal, Registration
from deals.permissions import DealAction
from partnerportal.core import access
from partnerportal.core import views as core_views
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import Organisation, Role, User
from tiers import selectors as tier_selectors
from tiers import services as tier_services
from tiers.models import EliteInvitation
from tiers.permissions import TierAction

from .forms import EliteInvitationForm

#: Where each staff role lands (URL names); roles not listed land on the partners list.
STAFF_LANDING: dict[str, str] = {
    Role.GROWTH_SPECIALIST: "deals-workspace",
    Role.FINANCE: "commissions:quarters",
    Role.CUSTOMER_SUCCESS: "escalations-queue",
    Role.SERVICE_ACCELERATION: "escalations-queue",
}

#: How many of a partner's latest registrations, statements and accreditations Home lists.
DASHBOARD_ROWS = 5


def optional_url(name: str, *args: Any) -> str | None:
    """The URL of `name`, or None while no app serves it (a page still being built)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting page, with its real data."""
    user = access.acting_user(request)
    if not user.is_partner_user:
        landing = STAFF_LANDING.get(user.role)
        url = optional_url(landing) if landing else None
        if url is not None:
            return redirect(url)
        return core_views.staff_home(request)
    organisation = access.get_visible_organisation(user, user.organisation_id)
    user.organisation = organisation  # the same row: the page's header reads it again
    return partner_dashboard(request, user, organisation)


# --- A partner's Home: a dashboard, distinct from its Tier page -------------------------------


def partner_dashboard(request: HttpRequest, user: User, organisation: Organisation) -> HttpResponse:
    """What a partner (or provider) works on: its deals and what waits for it, its revenue
    share statements, its accreditations, and a link to its tier; its organisation and
    customers below. `organisation` is the caller's own, resolved through `access`."""
    now = timezone.now()
    today = timezone.localdate()
    context: dict[str, Any] = {
        "organisation": organisation,
        "is_partner": organisation.kind == Organisation.Kind.PARTNER,
        "today": today,
        "rows": core_views.customer_rows(organisation, today),
    }
    if access.can(user, DealAction.REGISTER):
        registrations = deal_selectors.visible_registrations(user)
        status = Registration.Status
        # One query; `distinct` because the questions' join repeats a registration per
        # inquiry.
        counts = registrations.aggregate(
            awaiting_approval=Count("pk", distinct=True, filter=Q(status=status.PENDING_APPROVAL)),
            on_deal=Count(
                "pk",
                distinct=True,
                filter=Q(status__in=Registration.ACTIVE_STATUSES, deal__status=Deal.Status.OPEN),
            ),
            to_accept=Count(
                "pk", distinct=True, filter=Q(status=status.INVITED, expires_at__gt=now)
            ),
            to_acknowledge=Count("pk", distinct=True, filter=Q(status=status.REFERRED)),
            questions=Count(
                "inquiries", distinct=True, filter=Q(inquiries__answered_at__isnull=True)
            ),
            credited=Count("pk", distinct=True, filter=Q(deal__winner=F("pk"))),
        )
        latest = list(
            registrations.select_related("deal__customer").order_by("-created_at", "-id")[
                :DASHBOARD_ROWS
            ]
        )
        context["deals"] = {
            "counts": counts,
            "latest": [
                (r, deal_presenters.registration_status_words(r, now), _outcome_words(r))
                for r in latest
            ],
        }
    if access.can(user, CommissionAction.LEDGER_VIEW, organisation):
        # The caller's own organisation only (resolved through `access` by `home`).
        statements = list(
            Statement.objects.filter(organisation=organisation).order_by("-quarter", "currency_id")[
                :DASHBOARD_ROWS
            ]
        )
        context["statements"] = statements
        context["statements_url"] = optional_url("commissions:statements")
    if access.can(user, AccreditationAction.VIEW):
        accreditations = list(
            accreditation_selectors.visible_accreditations(user)[: DASHBOARD_ROWS * 2]
        )
        context["accreditations"] = [
            (a, accreditation_kind_name(a.kind), accreditation_status_name(a.status))
            for a in accreditations
        ]
    if organisation.kind == Organisation.Kind.PARTNER and access.can(
        user, TierAction.VIEW, organisation
    ):
        context["tier_url"] = reverse("tiers-partner", args=[organisation.pk])
    return render(request, "home/partner.html", context)


def _outcome_words(registration: Registration) -> str:
    outcome = deal_presenters.partner_outcome(registration)
    return deal_presenters.OUTCOME_WORDS[outcome] if outcome else ""


# --- An organisation as staff see it -----------------------------------------------------------


@login_required
def partner_page(request: HttpRequest, pk: int) -> HttpResponse:
    """An organisation with its customers; for a solutions partner, a link to its tier page
    and, for partner ops, the Elite invitation."""
    user = access.acting_user(request)
    organisation = access.get_visible_organisation(user, pk)
    return _partner_page(request, user, organisation)


def _partner_page(
    request: HttpRequest,
    user: User,
    organisation: Organisation,
    *,
    elite_form: EliteInvitationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    extra: dict[str, Any] = {}
    if organisation.kind == Organisation.Kind.PARTNER and access.can(
        user, TierAction.VIEW, organisation
    ):
        extra["tier_url"] = reverse("tiers-partner", args=[organisation.pk])
    if organisation.kind == Organisation.Kind.PARTNER and access.can(
        user, TierAction.ELITE_INVITE, organisation
    ):
        elite = elite_invitation_state(organisation)
        extra["elite"] = elite
        if elite.offer:
            extra["elite_form"] = elite_form or EliteInvitationForm(organisation=organisation)
    return core_views.organisation_page(
        request, organisation, template="partners/partner.html", extra=extra, status=status
    )


@dataclass(frozen=True)
class EliteInvitationState:
    """What partner ops see of a partner's Elite invitation: the one made, or whether one is
    offered (the partner's latest tier run found the Elite points and it is not Elite)."""

    is_partner: bool
    invitation: EliteInvitation | None
    elite_qualified: bool
    assessed_on: Any
    is_elite: bool

    @property
    def offer(self) -> bool:
        return (
            self.is_partner
            and self.invitation is None
            and self.elite_qualified
            and not self.is_elite
        )


def elite_invitation_state(organisation: Organisation) -> EliteInvitationState:
    """The partner's invitation and latest assessment (two queries)."""
    if organisation.kind != Organisation.Kind.PARTNER:
        return EliteInvitationState(
            is_partner=False,
            invitation=None,
            elite_qualified=False,
            assessed_on=None,
            is_elite=False,
        )
    latest = tier_selectors.organisation_assessments(organisation).first()
    return EliteInvitationState(
        is_partner=True,
        # The partner's own invitation (one per partner), for an organisation already
        # resolved through `access`.
        invitation=EliteInvitation.objects.filter(organisation=organisation)
        .select_related("invited_by")
        .first(),
        elite_qualified=bool(latest and latest.elite_qualified),
        assessed_on=latest.as_of if latest else None,
        is_elite=organisation.tier == Organisation.Tier.ELITE,
    )


@login_required
@require_POST
def partner_elite_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Partner ops invite a partner to Elite from its page (the service of
    `POST /api/v1/partners/{id}/elite-invitation/`), after confirming."""
    user = access.acting_user(request)
    organisation = access.get_visible_organisation(user, pk)
    access.require(user, TierAction.ELITE_INVITE, organisation)
    elite = elite_invitation_state(organisation)
    if not elite.offer:
        messages.error(request, elite_refusal_words(elite))
        return redirect("partner-detail", pk=organisation.pk)
    form = EliteInvitationForm(request.POST, organisation=organisation)
    if form.is_valid():
        try:
            _, created = tier_services.elite_invite(
                actor=user, organisation=organisation, reason=form.cleaned_data["reason"]
            )
        except InvalidInput as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                f"{organisation.name} is invited to Elite. It becomes Elite at the first tier "
                "run that also finds the Elite points, retention and team certifications."
                if created
                else f"{organisation.name} was already invited to Elite: nothing changed.",
            )
            return redirect("partner-detail", pk=organisation.pk)
    return _partner_page(request, user, organisation, elite_form=form, status=400)


def elite_refusal_words(elite: EliteInvitationState) -> str:
    """Why the page offers no invitation, in words."""
    if not elite.is_partner:
        return "Providers have no tier, so they cannot be invited to Elite."
    if elite.invitation is not None:
        return "This partner is already invited to Elite."
    if elite.is_elite:
        return "This partner is already Elite."
    if elite.assessed_on is None:
        return "This partner has not been assessed yet: an invitation follows a tier run."
    return (
        "This partner's latest tier run did not find the Elite points, so it cannot be invited yet."
    )
