"""Consequences (SPEC 10): applied by partner ops with a reason, effective-dated, reflected in
the partner's standing through the kernel service; the reads other apps make (marks on record,
consequences in effect, tier drops)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from escalations import selectors, services
from escalations.inputs import ConsequenceEnd, ConsequenceInput
from escalations.models import Mark
from escalations.rules import ConsequenceKind
from partnerportal.core.errors import Forbidden
from partnerportal.core.models import AuditEvent, Organisation
from tests.cast import Cast, api_as

from .steps import case_with_mark

K = ConsequenceKind


def at(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    """Set the process clock (`django.utils.timezone.now`) to noon UTC on `day`."""
    moment = datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _apply(cast: Cast, kind: K, start: date, until: date | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return services.consequence_apply(
        actor=cast.ops,
        data=ConsequenceInput(
            partner=cast.org_a,
            kind=kind,
            reason=f"{kind.value} for breaking the rules of engagement",
            effective_from=start,
            effective_until=until,
            **kw,  # type: ignore[arg-type]
        ),
    )


def _standing(org: Organisation) -> str:
    org.refresh_from_db()
    return org.standing


def test_warning_suspension_termination_set_the_standing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, "2026-03-10")
    _apply(cast, K.WARNING, date(2026, 3, 1))
    assert _standing(cast.org_a) == "warned"
    suspension = _apply(cast, K.SUSPENSION, date(2026, 3, 10))
    assert _standing(cast.org_a) == "suspended"
    services.consequence_end(
        actor=cast.ops,
        consequence=suspension,
        data=ConsequenceEnd(effective_until=date(2026, 3, 11), reason="Paid back"),
    )
    # Ending tomorrow: still suspended today.
    assert _standing(cast.org_a) == "suspended"
    changes = AuditEvent.objects.filter(verb="core.partner.standing_changed").count()
    assert changes == 2


def test_a_future_consequence_takes_effect_on_its_date(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, "2026-03-10")
    _apply(cast, K.TERMINATION, date(2026, 4, 1))
    assert _standing(cast.org_a) == "good"
    assert services.standings_refresh(as_of=date(2026, 3, 31)) == 0
    assert services.standings_refresh(as_of=date(2026, 4, 1)) == 1
    assert _standing(cast.org_a) == "terminated"
    assert services.standings_refresh(as_of=date(2026, 4, 1)) == 0  # idempotent


def test_an_ended_consequence_restores_good_standing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, "2026-03-10")
    warning = _apply(cast, K.WARNING, date(2026, 3, 1), date(2026, 6, 1))
    assert _standing(cast.org_a) == "warned"
    assert services.standings_refresh(as_of=date(2026, 6, 1)) == 1
    assert _standing(cast.org_a) == "good"
    assert warning.pk


def test_only_partner_ops_apply_consequences(cast: Cast) -> None:
    for person in (cast.pdm, cast.gs, cast.admin_a):
        with pytest.raises(Forbidden):
            services.consequence_apply(
                actor=person,
                data=ConsequenceInput(
                    partner=cast.org_a,
                    kind=K.WARNING,
                    reason="r",
                    effective_from=date(2026, 1, 1),
                ),
            )


def test_consequence_api_applies_with_a_reason_and_shows_the_partner(cast: Cast) -> None:
    response = api_as(cast.ops).post(
        "/api/v1/consequences/",
        {
            "partner": cast.org_a.pk,
            "kind": "tier_drop",
            "reason": "Deal registration abuse",
            "effective_from": "2026-01-01",
            "tiers_dropped": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["tiers_dropped"] == 2
    rows = api_as(cast.admin_a).get("/api/v1/consequences/").json()["results"]
    assert [(r["kind"], r["reason"]) for r in rows] == [("tier_drop", "Deal registration abuse")]
    assert api_as(cast.admin_b).get("/api/v1/consequences/").json()["results"] == []
    bad = api_as(cast.ops).post(
        "/api/v1/consequences/",
        {"partner": cast.org_a.pk, "kind": "fine", "reason": "", "effective_from": "soon"},
        format="json",
    )
    assert bad.status_code == 400
    assert {"kind", "reason", "effective_from"} <= set(bad.json())
    no_reason_end = api_as(cast.ops).post(
        f"/api/v1/consequences/{response.json()['id']}/end/",
        {"effective_until": "2026-02-01", "reason": ""},
        format="json",
    )
    assert no_reason_end.status_code == 400
    assert (
        api_as(cast.admin_b)
        .post(
            f"/api/v1/consequences/{response.json()['id']}/end/",
            {"effective_until": "2026-02-01", "reason": "x"},
            format="json",
        )
        .status_code
        == 404
    )


def test_tier_drops_read_by_the_tier_run(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, "2026-01-01")
    _apply(cast, K.TIER_DROP, date(2026, 1, 1), date(2026, 7, 1), tiers_dropped=1)
    _apply(cast, K.TIER_DROP, date(2026, 3, 1), tiers_dropped=2)
    _apply(cast, K.WARNING, date(2026, 1, 1))
    ids = [cast.org_a.pk, cast.org_b.pk]
    assert selectors.tier_drops(organisation_ids=ids, as_of=date(2025, 12, 31)) == {}
    assert selectors.tier_drops(organisation_ids=ids, as_of=date(2026, 2, 15)) == {cast.org_a.pk: 1}
    assert selectors.tier_drops(organisation_ids=ids, as_of=date(2026, 3, 15)) == {cast.org_a.pk: 2}
    assert selectors.tier_drops(as_of=date(2026, 8, 1)) == {cast.org_a.pk: 2}
    in_effect = selectors.consequences_in_effect(organisation_ids=ids, as_of=date(2026, 2, 1))
    assert [c.kind for c in in_effect[cast.org_a.pk]] == [K.TIER_DROP, K.WARNING]
    only = selectors.consequences_in_effect(
        organisation_ids=ids, as_of=date(2026, 2, 1), kinds=["revenue_share_loss"]
    )
    assert only == {}


def test_marks_on_record_counts_marks_effective_by_the_date(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, "2026-02-01")
    case_with_mark(cast.ops, cast.org_a, domain="one.example")
    at(monkeypatch, "2026-05-01")
    case_with_mark(cast.ops, cast.org_a, domain="two.example")
    assert Mark.objects.count() == 2
    ids = [cast.org_a.pk, cast.org_b.pk]
    assert selectors.marks_on_record(organisation_ids=ids, as_of=date(2026, 1, 31)) == {}
    assert selectors.marks_on_record(organisation_ids=ids, as_of=date(2026, 2, 1)) == {
        cast.org_a.pk: 1
    }
    assert selectors.marks_on_record(organisation_ids=ids, as_of=date(2026, 12, 1)) == {
        cast.org_a.pk: 2
    }


def test_the_kernel_standing_service_is_for_partner_ops_and_audited(cast: Cast) -> None:
    from partnerportal.core.services import organisation_standing_set

    with pytest.raises(Forbidden):
        organisation_standing_set(
            actor=cast.pdm, organisation=cast.org_a, standing="suspended", reason="r"
        )
    assert organisation_standing_set(
        actor=cast.ops, organisation=cast.org_a, standing="suspended", reason="Fraud"
    )
    assert not organisation_standing_set(
        actor=cast.ops, organisation=cast.org_a, standing="suspended", reason="Fraud"
    )
    event = AuditEvent.objects.get(verb="core.partner.standing_changed")
    assert (event.reason, event.data) == ("Fraud", {"from": "good", "to": "suspended"})
    assert _standing(cast.org_a) == "suspended"


def test_a_loss_of_revenue_share_records_the_kernel_stop_with_the_consequence(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, "2026-03-10")
    loss = _apply(cast, K.REVENUE_SHARE_LOSS, date(2026, 3, 15))
    _apply(cast, K.WARNING, date(2026, 3, 1))  # other kinds record no stop
    stop = cast.org_a.revenue_share_stops.get()
    assert (stop.effective_from, stop.effective_until, stop.source) == (
        date(2026, 3, 15),
        None,
        f"escalations.consequence:{loss.pk}",
    )
    assert _standing(cast.org_a) == "warned"  # a loss of revenue share leaves the standing
    services.consequence_end(
        actor=cast.ops,
        consequence=loss,
        data=ConsequenceEnd(effective_until=date(2026, 6, 1), reason="Made the customer whole"),
    )
    stop.refresh_from_db()
    assert stop.effective_until == date(2026, 6, 1)
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="core.partner.revenue_share")
        .order_by("id")
        .values_list("verb", "reason")
    )
    assert verbs == [
        (
            "core.partner.revenue_share_stopped",
            "revenue_share_loss for breaking the rules of engagement",
        ),
        ("core.partner.revenue_share_stop_ended", "Made the customer whole"),
    ]


def test_the_kernel_revenue_share_stop_services_are_for_partner_ops(cast: Cast) -> None:
    from partnerportal.core.services import revenue_share_stop_end, revenue_share_stop_start

    with pytest.raises(Forbidden):
        revenue_share_stop_start(
            actor=cast.pdm,
            organisation=cast.org_a,
            source="x:1",
            effective_from=date(2026, 3, 1),
            effective_until=None,
            reason="r",
        )
    revenue_share_stop_start(
        actor=cast.ops,
        organisation=cast.org_a,
        source="x:1",
        effective_from=date(2026, 3, 1),
        effective_until=None,
        reason="r",
    )
    with pytest.raises(Forbidden):
        revenue_share_stop_end(
            actor=cast.pdm, source="x:1", effective_until=date(2026, 4, 1), reason="r"
        )
    assert cast.org_a.revenue_share_stops.get().effective_until is None


def test_the_backfill_gives_earlier_revenue_share_losses_their_kernel_stop_once(
    cast: Cast,
) -> None:
    from importlib import import_module

    from django.apps import apps

    from escalations.models import Consequence
    from partnerportal.core.models import RevenueShareStop

    migration = import_module("escalations.migrations.0002_revenue_share_stops_backfill")
    # Written directly, as before the kernel kept stops: no stop.
    loss = Consequence.objects.create(
        organisation=cast.org_a,
        kind="revenue_share_loss",
        reason="Old loss",
        effective_from=date(2025, 5, 1),
        effective_until=date(2025, 9, 1),
        applied_by=cast.ops,
    )
    Consequence.objects.create(
        organisation=cast.org_a,
        kind="warning",
        reason="Old warning",
        effective_from=date(2025, 5, 1),
        applied_by=cast.ops,
    )
    migration.backfill(apps, None)
    migration.backfill(apps, None)
    assert list(
        RevenueShareStop.objects.values_list("source", "effective_from", "effective_until")
    ) == [(f"escalations.consequence:{loss.pk}", date(2025, 5, 1), date(2025, 9, 1))]
