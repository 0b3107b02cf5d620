"""Pages of the project package, the composition root: it may call every app; the kernel
(`partnerportal.core`) calls none."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from partnerportal.core import access
from partnerportal.core import views as core_views
from partnerportal.core.models import Organisation
from tiers import views as tier_views


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting page, with its real data."""
    user = access.acting_user(request)
    if not user.is_partner_user:
        return core_views.staff_home(request)
    organisation = access.get_visible_organisation(user, user.organisation_id)
    if organisation.kind == Organisation.Kind.PARTNER:
        # A partner's home is its tier page (issue 4), with its customers below.
        rows = core_views.customer_rows(organisation, timezone.localdate())
        return tier_views.partner_home(request, organisation, customers=rows)
    # A provider has no tier: its home is its organisation and customers.
    return core_views.organisation_page(request, organisation, template="core/home_partner.html")
