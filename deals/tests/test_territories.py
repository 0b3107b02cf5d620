"""Territories (SPEC 5): the routing table of Partner Sourced requests. Partner ops edit it in
the admin through `services.territory_edit`, which checks the permission, validates, writes and
audits in one transaction (issue 9: routing data edited without the audit trail before)."""

from __future__ import annotations

from typing import Any

import pytest

from deals import services
from deals.models import Territory
from deals.services import ops as territories
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import AuditEvent, Role
from tests.cast import Cast, browser_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/deals/territory/add/"


def _trail() -> list[tuple[str, str, Any]]:
    return [
        (e.verb, e.actor_label, e.data)
        for e in AuditEvent.objects.filter(verb__startswith="deals.territory.").order_by("id")
    ]


def test_adding_and_changing_a_territory_in_the_admin_is_audited_with_before_and_after(
    cast: Cast,
) -> None:
    # given: a second growth specialist
    gs_latam = UserFactory(role=Role.GROWTH_SPECIALIST, email="gs.latam@vendor.example")
    client = browser_as(cast.ops)
    # when: partner ops route LATAM SMB to the cast's GS, then hand it to the new one
    added = client.post(ADD, {"region": "latam", "segment": "smb", "growth_specialist": cast.gs.pk})
    assert added.status_code == 302, added.content[:500]
    row = Territory.objects.get(region="latam", segment="smb")
    changed = client.post(
        f"/admin/deals/territory/{row.pk}/change/",
        {"region": "latam", "segment": "smb", "growth_specialist": gs_latam.pk},
    )
    assert changed.status_code == 302, changed.content[:500]
    # then: the row routes to the new GS and each edit is on the trail, by ops, as it was
    assert Territory.objects.get(pk=row.pk).growth_specialist == gs_latam
    after_add = {"region": "latam", "segment": "smb", "growth_specialist": cast.gs.email}
    assert _trail() == [
        ("deals.territory.added", cast.ops.email, {"before": None, "after": after_add}),
        (
            "deals.territory.changed",
            cast.ops.email,
            {
                "before": after_add,
                "after": {**after_add, "growth_specialist": "gs.latam@vendor.example"},
            },
        ),
    ]


def test_a_territory_for_someone_not_a_growth_specialist_is_refused_on_the_field(
    cast: Cast,
) -> None:
    response = browser_as(cast.ops).post(
        ADD, {"region": "latam", "segment": "smb", "growth_specialist": cast.pdm.pk}
    )
    assert response.status_code == 200  # the admin shows its form again
    assert "growth_specialist" in response.context["adminform"].form.errors
    assert not Territory.objects.filter(region="latam").exists()
    assert _trail() == []


def test_a_second_row_for_a_region_and_segment_is_refused(cast: Cast) -> None:
    # The cast's GS already has the catch-all row (any region, any segment).
    response = browser_as(cast.ops).post(
        ADD, {"region": "", "segment": "", "growth_specialist": cast.gs.pk}
    )
    assert response.status_code == 200
    assert "Another row already routes this region and segment" in response.content.decode()
    assert Territory.objects.filter(region="", segment="").count() == 1
    assert _trail() == []


def test_territory_edit_is_for_partner_ops_only(cast: Cast) -> None:
    for who in (cast.gs, cast.admin_a, cast.pdm):
        with pytest.raises(Forbidden):
            services.territory_edit(
                actor=who, territory=None, region="apac", segment="", growth_specialist=cast.gs
            )
    assert not Territory.objects.filter(region="apac").exists()


def test_territory_edit_validates_before_it_writes(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.territory_edit(
            actor=cast.ops, territory=None, region="mars", segment="", growth_specialist=cast.gs
        )
    assert refused.value.errors == {"region": ["'mars' is not a region."]}
    assert _trail() == []


def test_territory_edit_and_its_audit_row_commit_together(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = Territory.objects.get(region="", segment="")
    gs_two = UserFactory(role=Role.GROWTH_SPECIALIST)

    def failing_audit(**kwargs: Any) -> None:
        raise RuntimeError("the audit trail is down")

    monkeypatch.setattr(territories, "audit", failing_audit)
    with pytest.raises(RuntimeError):
        services.territory_edit(
            actor=cast.ops, territory=row, region="", segment="", growth_specialist=gs_two
        )
    assert Territory.objects.get(pk=row.pk).growth_specialist == cast.gs
