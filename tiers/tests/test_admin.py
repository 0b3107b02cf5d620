"""Partner ops add next year's rule set in the admin, without a deploy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from tests.cast import Cast, browser_as
from tiers import selectors, services
from tiers.models import TierRuleSet
from tiers.tests.test_api import line

pytestmark = pytest.mark.django_db

ADD = "/admin/tiers/tierruleset/add/"


def rule_set_form(*targets: tuple[str, int, int, int]) -> dict[str, object]:
    form: dict[str, object] = {
        "effective_from": "2027-01-15",
        "sold_min_sourced_only": "on",
        "sourced_points": "5",
        "assisted_points": "3",
        "managed_points": "1",
        "growth_multiplier": "2",
        "pro_subscription_min_usd": "400",
        "elite_min_customer_retention_pct": "85",
        "elite_min_revenue_retention_pct": "85",
        "elite_min_team_certifications": "100",
        "matching_min_sourced_share_pct": "20",
        "matching_min_customer_retention_pct": "85",
        "matching_min_tier": "platinum",
        "targets-TOTAL_FORMS": "4",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "4",
    }
    for i, (tier, sold, managed, total) in enumerate(targets):
        form |= {
            f"targets-{i}-tier": tier,
            f"targets-{i}-sold_min": sold,
            f"targets-{i}-managed_min": managed,
            f"targets-{i}-total_min": total,
        }
    return form


FULL = (
    ("elite", 2200, 1800, 9500),
    ("diamond", 1000, 600, 3200),
    ("platinum", 350, 160, 950),
    ("gold", 120, 40, 340),
)


def test_partner_ops_add_a_rule_set_that_the_run_then_uses(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = browser_as(cast.ops).post(ADD, rule_set_form(*FULL))

    assert response.status_code == 302
    # The process clock reaches the new program year (a run never assesses a future date).
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 1, 15, 23, tzinfo=UTC))
    services.tier_run(as_of=date(2027, 1, 15), actor=None)
    rule_set = TierRuleSet.objects.get(effective_from=date(2027, 1, 15))
    assert rule_set.targets.count() == 4
    assert cast.org_a.tier_assessments.get().rule_set == rule_set


def test_a_rule_set_needs_a_target_for_every_tier(cast: Cast) -> None:
    response = browser_as(cast.ops).post(ADD, rule_set_form(*FULL[:3]))

    assert response.status_code == 200
    assert "exactly one target for each of" in response.content.decode()
    assert not TierRuleSet.objects.filter(effective_from=date(2027, 1, 15)).exists()


def test_a_rule_set_used_by_assessments_is_read_only(cast: Cast) -> None:
    services.tier_run(as_of=date(2026, 3, 15), actor=None)
    used = TierRuleSet.objects.get(effective_from=date(2026, 1, 15))
    url = f"/admin/tiers/tierruleset/{used.pk}/change/"

    response = browser_as(cast.ops).post(url, rule_set_form(*FULL) | {"sourced_points": "50"})

    assert response.status_code == 403
    used.refresh_from_db()
    assert used.sourced_points == 5


def test_assessments_are_readable_in_the_admin(cast: Cast) -> None:
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="5000.00", managed=True)
    services.tier_run(as_of=date(2026, 3, 15), actor=None)
    assessment = cast.org_a.tier_assessments.get()

    client = browser_as(cast.ops)
    assert client.get("/admin/tiers/tierassessment/").status_code == 200
    page = client.get(f"/admin/tiers/tierassessment/{assessment.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Contributing lines" in html
    for found in selectors.assessment_lines(assessment):
        assert found.customer.domain in html
    assert "Partner Sourced" in html
    assert "Managed" in html
