"""The demo puts its partners in every tier on the first run (issue 13): the won deals are
billed, the managed customers worked, and the real tier run decides (SPEC 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from partnerportal.core.models import Activity, Organisation, SubscriptionVersion
from tiers import selectors
from tiers.models import TierAssessment

pytestmark = pytest.mark.django_db


def _latest(name: str) -> TierAssessment:
    latest = (
        TierAssessment.objects.filter(organisation__name=name).order_by("-as_of", "-pk").first()
    )
    assert latest is not None, name
    return latest


def test_the_demo_shows_partners_in_at_least_three_tiers_on_the_first_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo")
    out = capsys.readouterr().out

    tiers = dict(Organisation.objects.filter(kind="partner").values_list("name", "tier"))
    assert len(set(tiers.values())) >= 3, tiers
    assert tiers == {
        "Bluepeak Agency": "untiered",
        "Northwind Digital": "gold",
        "Meridian Consulting": "platinum",
        "Harbor Digital": "diamond",
        "Summit Partners": "elite",
    }
    assert "admin@meridian.example" in out
    assert "admin@harbor.example" in out
    assert "Demo tiered book: billed 5 purchased lines of closed deals" in out


def test_the_demo_figures_are_the_hand_worked_ones() -> None:
    call_command("seed_demo")

    # (sourced, managed, total) as worked out in tiers/demo.py (GBP 62.5 = USD 100).
    expected = {
        # cyberdyne GBP 3 000 x 5 / 62.5 = 240 + lyon-textiles.fr EUR 120 x 5 / 75 = 8 (the
        # history, partnerportal/demo_history.py); globex EUR 1 350 / 75 = 18 + cyberdyne 48.
        "Bluepeak Agency": ("248", "66", "314"),
        # initrode GBP 845 (67.6) + tyrell GBP 720 (57.6) + the history's GBP 1 000 (80);
        # managed 19.2 + 18.12... + 13.52 + 11.52 + 192 (the book).
        "Northwind Digital": ("205.2", "254.4", "459.6"),
        "Meridian Consulting": ("350", "670", "1020"),
        "Harbor Digital": ("1000", "2400", "3400"),
    }
    for name, (sourced, managed, total) in expected.items():
        latest = _latest(name)
        got = (latest.sourced_points, latest.managed_points, latest.total_points)
        assert tuple(round(v, 1) for v in got) == (
            Decimal(sourced),
            Decimal(managed),
            Decimal(total),
        ), name
        assert latest.tier_after == Organisation.objects.get(name=name).tier


def test_the_won_deals_that_earned_nothing_now_have_billing_and_points() -> None:
    call_command("seed_demo")

    for domain, partner in (
        ("cyberdyne.co.uk", "Bluepeak Agency"),
        ("tyrell.co.uk", "Northwind Digital"),
    ):
        assert SubscriptionVersion.objects.filter(subscription__customer__domain=domain).exists()
        lines = list(selectors.assessment_lines(_latest(partner), {"q": domain}))
        assert {line.kind for line in lines} == {"sourced", "managed"}, domain
        assert all(line.points > 0 for line in lines)


def test_the_tiered_book_is_loaded_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo")
    capsys.readouterr()
    counts = (
        Organisation.objects.count(),
        SubscriptionVersion.objects.count(),
        Activity.objects.count(),
        TierAssessment.objects.count(),
    )

    call_command("seed_demo")

    assert "Demo tiered book already loaded: nothing to do." in capsys.readouterr().out
    assert (
        Organisation.objects.count(),
        SubscriptionVersion.objects.count(),
        Activity.objects.count(),
        TierAssessment.objects.count(),
    ) == counts
