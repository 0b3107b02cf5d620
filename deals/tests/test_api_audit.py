"""Every deal transition writes an audit event with its actor (STYLE 3): one journey through
the API that takes every transition once, then the trail it left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deals.models import Registration
from deals.services import invitations_lapse
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, api_as

from .api_steps import (
    PRO_MARKETING,
    PRO_SALES,
    Clock,
    approve,
    close,
    deal_of,
    manual_poi,
    ok,
    purchased,
    quoted,
    registered,
    sign,
    start_clock,
)

CUSTOMER = "customer (POI link)"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return start_clock(monkeypatch)


def test_every_transition_of_a_deal_is_audited_with_its_actor(cast: Cast, clock: Clock) -> None:
    gs = api_as(cast.gs)
    # registered (three partners), rejected, approved
    a = registered(cast.admin_a)
    b = registered(cast.admin_b)
    p = registered(cast.provider_admin)
    deal_id = deal_of(cast.gs, a)
    ok(gs.post(f"/api/v1/registrations/{p}/reject/", {"note": "Not involved"}))
    approve(cast.gs, a)
    approve(cast.gs, b)
    # referred, acknowledged: A refers the provider, which acknowledges it is secondary
    ok(
        api_as(cast.admin_a).post(
            f"/api/v1/registrations/{a}/referrals/", {"partner": cast.provider.pk}
        ),
        201,
    )
    p2 = Registration.objects.get(organisation=cast.provider, status="referred").pk
    ok(api_as(cast.provider_admin).post(f"/api/v1/registrations/{p2}/acknowledge-secondary/"))
    # quote saved, POIs created; the customer approves A's and rejects B's
    quoted(cast.gs, deal_id, [PRO_MARKETING])
    sign(cast.admin_a, a)
    sign(cast.admin_b, b, "reject")
    # the quote changes: A's approval and the provider's pending link are voided
    quoted(cast.gs, deal_id, [PRO_MARKETING, PRO_SALES])
    # B's new link is rejected too; B creates a manual POI, which the customer approves
    sign(cast.admin_b, b, "reject")
    ok(manual_poi(cast.member_b, b, ["sales_hub"], onboarding=False), 201)
    for user, registration in ((cast.admin_a, a), (cast.admin_b, b), (cast.provider_admin, p2)):
        sign(user, registration)
    # inquiry asked and answered
    inquiry = ok(gs.post(f"/api/v1/registrations/{b}/inquiries/", {"question": "Who signs?"}), 201)
    ok(api_as(cast.member_b).post(f"/api/v1/inquiries/{inquiry['id']}/answer/", {"answer": "CFO"}))
    # closed: a three-way tie; decided by partner ops
    ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800"), ("sales_hub", "400")),
        )
    )
    ok(
        api_as(cast.ops).post(
            f"/api/v1/deals/{deal_id}/decide/", {"registration": a, "reason": "CTO"}
        )
    )
    # a vendor-owned deal: invited twice, accepted once, lapsed once
    vendor = ok(
        gs.post(
            "/api/v1/deals/",
            {"customer_domain": "vendor.example", "country": "GB", "segment": "smb"},
            format="json",
        ),
        201,
    )
    invite_a = ok(
        gs.post(f"/api/v1/deals/{vendor['id']}/invitations/", {"partner": cast.org_a.pk}), 201
    )
    invite_b = ok(
        gs.post(f"/api/v1/deals/{vendor['id']}/invitations/", {"partner": cast.org_b.pk}), 201
    )
    ok(api_as(cast.admin_a).post(f"/api/v1/registrations/{invite_a['id']}/accept/"))
    clock.advance(timedelta(hours=73))
    assert invitations_lapse() == 1

    # then: each transition, with who did it
    def trail(verb: str) -> list[tuple[str | None, str, str]]:
        return [
            (e.actor.email if e.actor else None, e.actor_label, e.subject_id)
            for e in AuditEvent.objects.filter(verb=verb).select_related("actor").order_by("id")
        ]

    def actors(verb: str) -> list[str]:
        return [label for _, label, _ in trail(verb)]

    gs_label, ops_label = cast.gs.email, cast.ops.email
    assert actors("deals.deal.opened") == [cast.admin_a.email, gs_label]
    assert actors("deals.registration.registered") == [
        cast.admin_a.email,
        cast.admin_b.email,
        cast.provider_admin.email,
    ]
    assert trail("deals.registration.rejected") == [(gs_label, gs_label, str(p))]
    assert trail("deals.registration.approved") == [
        (gs_label, gs_label, str(a)),
        (gs_label, gs_label, str(b)),
    ]
    assert trail("deals.registration.referred") == [
        (cast.admin_a.email, cast.admin_a.email, str(p2))
    ]
    assert trail("deals.registration.acknowledged_secondary") == [
        (cast.provider_admin.email, cast.provider_admin.email, str(p2))
    ]
    assert actors("deals.quote.saved") == [gs_label, gs_label]
    # v1: A, B, the provider; v2: A, B, the provider; then B's manual one
    assert actors("deals.poi.created") == [gs_label] * 6 + [cast.member_b.email]
    assert actors("deals.poi.voided") == [gs_label, gs_label]
    assert [e[:2] for e in trail("deals.poi.approved")] == [(None, CUSTOMER)] * 4
    assert [e[:2] for e in trail("deals.poi.rejected")] == [(None, CUSTOMER)] * 2
    assert trail("deals.inquiry.asked") == [(gs_label, gs_label, str(inquiry["id"]))]
    assert trail("deals.inquiry.answered") == [
        (cast.member_b.email, cast.member_b.email, str(inquiry["id"]))
    ]
    assert trail("deals.deal.closed") == [(gs_label, gs_label, str(deal_id))]
    assert trail("deals.deal.decided") == [(ops_label, ops_label, str(deal_id))]
    assert actors("deals.associations.granted") == [ops_label]
    assert trail("deals.registration.invited") == [
        (gs_label, gs_label, str(invite_a["id"])),
        (gs_label, gs_label, str(invite_b["id"])),
    ]
    assert trail("deals.registration.accepted") == [
        (cast.admin_a.email, cast.admin_a.email, str(invite_a["id"]))
    ]
    assert trail("deals.registration.lapsed") == [(None, "system", str(invite_b["id"]))]

    # reasons and the partner each event concerns
    rejected = AuditEvent.objects.get(verb="deals.registration.rejected")
    assert (rejected.reason, rejected.organisation) == ("Not involved", cast.provider)
    decided = AuditEvent.objects.get(verb="deals.deal.decided")
    assert decided.reason == "CTO"
    assert decided.data["rule"] == "ops_decision"
    closed = AuditEvent.objects.get(verb="deals.deal.closed")
    assert closed.data["rule"] == "awaiting_decision"
    assert closed.reason  # the explanation of the resolution
    voided = AuditEvent.objects.filter(verb="deals.poi.voided").order_by("id")
    assert [(e.organisation, e.data["was"]) for e in voided] == [
        (cast.org_a, "approved"),
        (cast.provider, "pending"),
    ]
    assert all("version 2" in e.reason for e in voided)
    lapsed = AuditEvent.objects.get(verb="deals.registration.lapsed")
    assert lapsed.organisation == cast.org_b
    # every deal event concerning a registration names the partner it concerns
    for event in AuditEvent.objects.filter(verb__startswith="deals.registration."):
        assert event.organisation is not None, event.verb
