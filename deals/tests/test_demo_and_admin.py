"""Demo deals in every state, territory routing data, and the admin's deals section."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from deals.models import Deal, Registration, SoldAssociation, Territory
from partnerportal.core.models import User
from tests.cast import Cast, browser_as

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_deals_in_every_state_and_is_idempotent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "Loaded 9 demo deals" in first
    assert "/poi/" in first  # a customer POI link to try
    assert "Ran the re-tiering for" in first
    # The tier assessments the demo also loads: tests/test_project_package.py (deals knows no
    # tiers, SPEC 12).
    statuses = set(Registration.objects.values_list("status", flat=True))
    assert {"pending_approval", "rejected", "approved", "invited", "lapsed", "accepted"} <= statuses
    rules = set(Deal.objects.exclude(resolution_rule="").values_list("resolution_rule", flat=True))
    assert rules == {
        "single_candidate",
        "awaiting_decision",
        "highest_mrr_onboarding",
        "sourcing_priority",
        "no_candidate",
    }
    counts = (Deal.objects.count(), Registration.objects.count(), SoldAssociation.objects.count())
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "Demo deals already loaded" in second
    assert "Demo tier assessments already exist" in second
    assert (
        Deal.objects.count(),
        Registration.objects.count(),
        SoldAssociation.objects.count(),
    ) == counts


def test_create_staff_routes_the_growth_specialists_territory() -> None:
    call_command(
        "create_staff",
        "gs.apac@vendor.example",
        "--role",
        "growth_specialist",
        "--region",
        "apac",
        "--segment",
        "enterprise",
    )
    gs = User.objects.get(email="gs.apac@vendor.example")
    assert Territory.objects.get(region="apac", segment="enterprise").growth_specialist == gs
    call_command("create_staff", "gs.any@vendor.example", "--role", "growth_specialist")
    assert (
        Territory.objects.get(region="", segment="").growth_specialist.email
        == "gs.any@vendor.example"
    )


def test_partner_ops_edit_territories_in_the_admin(cast: Cast) -> None:
    client = browser_as(cast.ops)
    response = client.post(
        "/admin/deals/territory/add/",
        {"region": "latam", "segment": "smb", "growth_specialist": cast.gs.pk},
    )
    assert response.status_code == 302, response.content[:500]
    assert Territory.objects.filter(
        region="latam", segment="smb", growth_specialist=cast.gs
    ).exists()
    assert client.get("/admin/deals/deal/").status_code == 200
    assert client.get("/admin/deals/deal/add/").status_code == 403
    assert browser_as(cast.gs).get("/admin/deals/territory/").status_code == 302
