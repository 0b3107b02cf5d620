"""The demo's Elite partner: invited, a retained book, 100 team certifications and the Elite
points, made Elite by the real tier run (SPEC 4)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from partnerportal.core.models import Organisation
from tiers.models import TierAssessment

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_elite_partner_made_elite_by_the_run() -> None:
    call_command("seed_demo")

    summit = Organisation.objects.get(name="Summit Partners")
    latest = TierAssessment.objects.filter(organisation=summit).order_by("-as_of").first()
    assert latest is not None
    assert summit.tier == "elite"
    assert (latest.team_certifications, latest.elite_invited, latest.tier_after) == (
        100,
        True,
        "elite",
    )
    assert latest.customer_retention_pct == 100
    assert latest.revenue_retention_pct == 100
