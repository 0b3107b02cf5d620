"""Partner ops add next year's rule set in the admin, without a deploy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from partnerportal.core.errors import InvalidInput, StateConflict
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, browser_as
from tiers import selectors, services
from tiers.inputs import RuleSetInput, TargetInput
from tiers.models import TierRuleSet
from tiers.rules import Tier
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


# --- Admin edits go through the service and the audit trail ------------------------------------


def test_adding_a_rule_set_in_the_admin_writes_an_audit_row(cast: Cast) -> None:
    response = browser_as(cast.ops).post(ADD, rule_set_form(*FULL))

    assert response.status_code == 302
    added = TierRuleSet.objects.get(effective_from=date(2027, 1, 15))
    event = AuditEvent.objects.get(verb="tiers.rule_set.added")
    assert (event.actor, event.subject_type, event.subject_id) == (
        cast.ops,
        "tiers.tierruleset",
        str(added.pk),
    )
    assert event.data["effective_from"] == "2027-01-15"
    assert event.data["sourced_points"] == "5"
    assert event.data["targets"]["gold"] == {
        "sold_min": "120",
        "managed_min": "40",
        "total_min": "340",
    }


def test_changing_an_unused_rule_set_in_the_admin_is_audited_with_what_it_was(cast: Cast) -> None:
    browser_as(cast.ops).post(ADD, rule_set_form(*FULL))
    added = TierRuleSet.objects.get(effective_from=date(2027, 1, 15))
    form = rule_set_form(*FULL) | {"sourced_points": "6"}
    for i, target in enumerate(added.targets.order_by("pk")):
        form |= {
            f"targets-{i}-id": str(target.pk),
            f"targets-{i}-rule_set": str(added.pk),
            f"targets-{i}-tier": target.tier,
        }
    form["targets-INITIAL_FORMS"] = "4"

    response = browser_as(cast.ops).post(f"/admin/tiers/tierruleset/{added.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[-2000:]
    added.refresh_from_db()
    assert added.sourced_points == 6
    event = AuditEvent.objects.get(verb="tiers.rule_set.changed")
    assert (event.actor, event.subject_id) == (cast.ops, str(added.pk))
    assert (event.data["sourced_points"], event.data["before"]["sourced_points"]) == ("6", "5.0000")


def _rule_set_input(**change: object) -> RuleSetInput:
    data = RuleSetInput(
        effective_from=date(2027, 1, 15),
        sold_min_sourced_only=True,
        sourced_points=Decimal(5),
        assisted_points=Decimal(3),
        managed_points=Decimal(1),
        growth_multiplier=Decimal(2),
        pro_subscription_min_usd=Decimal(400),
        elite_min_customer_retention_pct=Decimal(85),
        elite_min_revenue_retention_pct=Decimal(85),
        elite_min_team_certifications=100,
        matching_min_sourced_share_pct=Decimal(20),
        matching_min_customer_retention_pct=Decimal(85),
        matching_min_tier=Tier.PLATINUM,
        targets=tuple(
            TargetInput(
                tier=Tier(tier),
                sold_min=Decimal(sold),
                managed_min=Decimal(managed),
                total_min=Decimal(total),
            )
            for tier, sold, managed, total in FULL
        ),
    )
    return dataclasses.replace(data, **change)  # type: ignore[arg-type]


def test_only_partner_ops_edit_rule_sets(cast: Cast) -> None:
    for person in (cast.pdm, cast.finance, cast.admin_a):
        with pytest.raises(PermissionDenied):
            services.rule_set_save(actor=person, data=_rule_set_input())
    assert not TierRuleSet.objects.filter(effective_from=date(2027, 1, 15)).exists()
    assert not AuditEvent.objects.filter(verb__startswith="tiers.rule_set").exists()


def test_a_rule_set_without_a_target_for_every_tier_is_refused_by_the_rules(cast: Cast) -> None:
    data = _rule_set_input()
    with pytest.raises(InvalidInput) as refused:
        services.rule_set_save(
            actor=cast.ops, data=dataclasses.replace(data, targets=data.targets[1:])
        )
    assert (refused.value.field, refused.value.rule) == ("targets", "incomplete_rule_set")
    assert not TierRuleSet.objects.filter(effective_from=date(2027, 1, 15)).exists()


def test_a_rule_set_assessments_were_made_under_cannot_change(cast: Cast) -> None:
    services.tier_run(as_of=date(2026, 3, 15), actor=None)
    used = TierRuleSet.objects.get(effective_from=date(2026, 1, 15))

    with pytest.raises(StateConflict):
        services.rule_set_save(
            actor=cast.ops,
            data=_rule_set_input(effective_from=date(2026, 1, 15)),
            rule_set=used,
        )
    assert not AuditEvent.objects.filter(verb__startswith="tiers.rule_set").exists()


def test_two_rule_sets_cannot_take_effect_on_one_day(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.rule_set_save(
            actor=cast.ops, data=_rule_set_input(effective_from=date(2026, 1, 15))
        )
    assert refused.value.field == "effective_from"
