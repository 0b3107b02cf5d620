"""Every rule of SPEC 5 (deals) and 6 (Best Partner Wins), through the API (SPEC 11).

The pure rules are tested exhaustively in test_rules.py; these tests prove the API applies
them: one test per rule, named after it, including each worked cascade case of SPEC 6.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from deals.models import Deal, Poi, Registration, SoldAssociation, Territory
from deals.services import invitations_lapse
from partnerportal.core.models import Customer, ProductLine, Role
from tests.cast import Cast, api_as
from tests.factories import SoldAssociationFactory, UserFactory

from .api_steps import (
    CREDITS,
    PRO_MARKETING,
    PRO_SALES,
    STARTER_SALES,
    Clock,
    answer_poi,
    approve,
    approved,
    close,
    deal_of,
    field_error,
    manual_poi,
    ok,
    poi,
    poi_token,
    purchased,
    put_quote,
    quoted,
    register,
    registered,
    sign,
    start_clock,
    subscribe,
    token_of,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return start_clock(monkeypatch)


def shared_deal(cast: Cast, *partners: str, lines: list[dict] | None = None) -> tuple[int, dict]:
    """A deal on acme.example with each named partner registered and approved, and a quote
    (v1) when `lines` are given. Return the deal id and the registration ids by person."""
    ids = {who: approved(cast.gs, cast.people()[who]) for who in partners}
    deal_id = deal_of(cast.gs, next(iter(ids.values())))
    if lines is not None:
        quoted(cast.gs, deal_id, lines)
    return deal_id, ids


def resolution(cast: Cast, deal_id: int) -> dict:
    return ok(api_as(cast.gs).get(f"/api/v1/deals/{deal_id}/"))["resolution"]


def held_lines(cast: Cast, who: str) -> set[str]:
    return set(
        SoldAssociation.objects.filter(organisation=getattr(cast, who)).values_list(
            "product_line_id", flat=True
        )
    )


# --- Registration, routing and duplicates (SPEC 5) -----------------------------------------


def test_registration_creates_the_deal_and_routes_to_the_most_specific_territory(
    cast: Cast,
) -> None:
    # given: territory rows from most to least specific (the cast's GS is the catch-all)
    emea_smb = UserFactory(role=Role.GROWTH_SPECIALIST, email="emea-smb@vendor.example")
    emea = UserFactory(role=Role.GROWTH_SPECIALIST, email="emea@vendor.example")
    enterprise = UserFactory(role=Role.GROWTH_SPECIALIST, email="ent@vendor.example")
    retired = UserFactory(role=Role.GROWTH_SPECIALIST, email="old@vendor.example", is_active=False)
    Territory.objects.create(region="emea", segment="smb", growth_specialist=emea_smb)
    Territory.objects.create(region="emea", segment="", growth_specialist=emea)
    Territory.objects.create(region="", segment="enterprise", growth_specialist=enterprise)
    Territory.objects.create(region="apac", segment="", growth_specialist=retired)
    expected = {
        ("gb-smb.example", "GB", "smb"): emea_smb,  # region and segment
        ("gb-mid.example", "GB", "mid_market"): emea,  # region only
        ("us-ent.example", "US", "enterprise"): enterprise,  # segment only
        ("us-smb.example", "US", "smb"): cast.gs,  # catch-all
        ("au-smb.example", "AU", "smb"): cast.gs,  # an inactive GS is skipped
    }
    for (domain, country, segment), gs in expected.items():
        # when
        body = ok(register(cast.admin_a, domain, country=country, segment=segment), 201)
        # then: a new open deal on the new customer, routed to that GS
        assert (body["motion"], body["status"]) == ("partner_sourced", "pending_approval")
        deal = ok(api_as(cast.ops).get(f"/api/v1/deals/{deal_of(cast.ops, body['id'])}/"))
        assert (deal["customer_domain"], deal["status"], deal["vendor_owned"]) == (
            domain,
            "open",
            False,
        )
        assert deal["growth_specialist"] == gs.email, domain
        # the routed GS sees the request; another GS does not
        assert api_as(gs).get(f"/api/v1/registrations/{body['id']}/").status_code == 200
    other = ok(register(cast.admin_a, "gb-smb2.example"), 201)["id"]
    assert api_as(emea).get(f"/api/v1/registrations/{other}/").status_code == 404


def test_competing_registration_joins_the_open_deal(cast: Cast) -> None:
    first = registered(cast.admin_a, "acme.example")
    second = registered(cast.admin_b, "https://www.ACME.example/pricing")
    assert deal_of(cast.gs, first) == deal_of(cast.gs, second)
    assert Deal.objects.count() == 1
    detail = ok(api_as(cast.gs).get(f"/api/v1/deals/{deal_of(cast.gs, first)}/"))
    assert sorted(r["id"] for r in detail["registrations"]) == sorted([first, second])


def test_duplicate_registration_is_refused_naming_customer_domain(cast: Cast) -> None:
    registered(cast.admin_a, "acme.example")
    for who, domain in (("admin_a", "acme.example"), ("member_a", "http://www.Acme.example/x")):
        response = register(cast.people()[who], domain)
        [message] = field_error(response, "customer_domain", rule="duplicate_registration")
        assert "acme.example" in message
        assert cast.org_b.name not in response.content.decode()
    assert Registration.objects.count() == 1


def test_duplicate_registration_counts_only_open_registrations(cast: Cast) -> None:
    first = registered(cast.admin_a)
    ok(api_as(cast.gs).post(f"/api/v1/registrations/{first}/reject/", {"note": "No."}))
    again = registered(cast.admin_a)
    assert deal_of(cast.gs, again) == deal_of(cast.gs, first)


def _shape(body: object) -> object:
    """The body with values replaced by their types (keys and nesting kept)."""
    if isinstance(body, dict):
        return {key: _shape(value) for key, value in body.items()}
    if isinstance(body, list):
        return [_shape(value) for value in body]
    return type(body).__name__


def _masked(response: object) -> bytes:
    """The raw body with each registration's id and created_at values masked."""
    content: bytes = response.content  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    rows = body.get("results", [body])
    for row in rows:
        content = content.replace(f'"id":{row["id"]},'.encode(), b'"id":0,')
        content = content.replace(
            f'"created_at":"{row["created_at"]}"'.encode(), b'"created_at":""'
        )
    return content


def test_competing_registration_response_is_the_same_as_a_lone_one(cast: Cast) -> None:
    # given: what partner B gets registering acme.example alone (then undone)
    with transaction.atomic():
        lone = register(cast.admin_b, "acme.example")
        lone_list = api_as(cast.admin_b).get("/api/v1/registrations/")
        lone_detail = api_as(cast.admin_b).get(f"/api/v1/registrations/{lone.json()['id']}/")
        transaction.set_rollback(True)
    # when: partner A registered it first, then B registers it
    registered(cast.admin_a, "acme.example")
    competing = register(cast.admin_b, "acme.example")
    competing_list = api_as(cast.admin_b).get("/api/v1/registrations/")
    competing_detail = api_as(cast.admin_b).get(f"/api/v1/registrations/{competing.json()['id']}/")
    # then: same status code, keys, types and values; only the id and created_at differ
    for alone, contested in (
        (lone, competing),
        (lone_list, competing_list),
        (lone_detail, competing_detail),
    ):
        assert alone.status_code == contested.status_code
        assert alone["Content-Type"] == contested["Content-Type"]
        assert _shape(alone.json()) == _shape(contested.json())
    volatile = {"id", "created_at"}

    def stable(body: dict) -> dict:
        return {k: v for k, v in body.items() if k not in volatile}

    assert stable(lone.json()) == stable(competing.json())
    assert stable(lone_detail.json()) == stable(competing_detail.json())
    assert [stable(r) for r in lone_list.json()["results"]] == [
        stable(r) for r in competing_list.json()["results"]
    ]
    assert lone.status_code == 201
    # byte for byte, once the id and the timestamp are masked
    assert _masked(lone) == _masked(competing)
    assert _masked(lone_detail) == _masked(competing_detail)
    assert _masked(lone_list) == _masked(competing_list)


def test_gs_approves_or_rejects_a_partner_sourced_request(cast: Cast) -> None:
    first = registered(cast.admin_a, "one.example")
    second = registered(cast.admin_b, "two.example")
    # a partner cannot decide its own request; partner ops do not approve either
    assert api_as(cast.admin_a).post(f"/api/v1/registrations/{first}/approve/").status_code == 403
    assert api_as(cast.ops).post(f"/api/v1/registrations/{first}/approve/").status_code == 403
    assert approve(cast.gs, first)["status"] == "approved"
    rejected = ok(
        api_as(cast.gs).post(f"/api/v1/registrations/{second}/reject/", {"note": "Known"})
    )
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "Known")
    # decided once only
    assert api_as(cast.gs).post(f"/api/v1/registrations/{first}/reject/").status_code == 409
    assert api_as(cast.gs).post(f"/api/v1/registrations/{second}/approve/").status_code == 409
    # the partners see their own outcome
    assert ok(api_as(cast.member_a).get(f"/api/v1/registrations/{first}/"))["status"] == (
        "approved"
    )
    assert ok(api_as(cast.member_b).get(f"/api/v1/registrations/{second}/"))["status"] == (
        "rejected"
    )


def test_approval_after_a_quote_issues_the_partner_its_poi(cast: Cast) -> None:
    first = registered(cast.admin_a)
    deal_id = deal_of(cast.gs, first)
    quoted(cast.gs, deal_id, [PRO_MARKETING])
    assert api_as(cast.admin_a).get(f"/api/v1/registrations/{first}/poi/").status_code == 404
    approve(cast.gs, first)
    assert poi(cast.admin_a, first)["status"] == "pending"


# --- Partner Assisted: vendor-owned deals and invitations (SPEC 5) ---------------------------


def test_vendor_owned_deal_invitation_and_acceptance(cast: Cast, clock: Clock) -> None:
    gs = api_as(cast.gs)
    deal = ok(
        gs.post(
            "/api/v1/deals/",
            {"customer_domain": "Vendor.example", "country": "DE", "segment": "mid_market"},
            format="json",
        ),
        201,
    )
    assert (deal["vendor_owned"], deal["growth_specialist"], deal["customer_domain"]) == (
        True,
        cast.gs.email,
        "vendor.example",
    )
    quoted(cast.gs, deal["id"], [PRO_MARKETING])
    invited = ok(
        gs.post(f"/api/v1/deals/{deal['id']}/invitations/", {"partner": cast.org_a.pk}), 201
    )
    assert (invited["motion"], invited["status"], invited["partner"]) == (
        "partner_assisted",
        "invited",
        cast.org_a.pk,
    )
    assert invited["expires_at"] == "2026-03-13T10:00:00Z"  # 72 hours
    # inviting the same partner twice is refused
    again = gs.post(f"/api/v1/deals/{deal['id']}/invitations/", {"partner": cast.org_a.pk})
    field_error(again, "partner")
    # a partner cannot invite; another partner cannot accept
    assert (
        api_as(cast.admin_a)
        .post(f"/api/v1/deals/{deal['id']}/invitations/", {"partner": cast.org_b.pk})
        .status_code
        == 404
    )
    accept = f"/api/v1/registrations/{invited['id']}/accept/"
    assert api_as(cast.admin_b).post(accept).status_code == 404
    assert api_as(cast.gs).post(accept).status_code == 403
    # the invited partner accepts at the last instant and gets its POI for the current quote
    clock.advance(timedelta(hours=72))
    accepted = ok(api_as(cast.member_a).post(accept))
    assert (accepted["status"], accepted["motion"]) == ("accepted", "partner_assisted")
    assert poi(cast.admin_a, invited["id"])["status"] == "pending"
    assert api_as(cast.admin_a).post(accept).status_code == 409


def test_invitation_lapses_after_72_hours(cast: Cast, clock: Clock) -> None:
    deal = ok(
        api_as(cast.gs).post(
            "/api/v1/deals/",
            {"customer_domain": "vendor.example", "country": "GB", "segment": "smb"},
            format="json",
        ),
        201,
    )
    invited = ok(
        api_as(cast.gs).post(
            f"/api/v1/deals/{deal['id']}/invitations/", {"partner": cast.org_a.pk}
        ),
        201,
    )
    # one second too late: the acceptance is refused even before the periodic task ran
    clock.advance(timedelta(hours=72, seconds=1))
    late = api_as(cast.admin_a).post(f"/api/v1/registrations/{invited['id']}/accept/")
    assert late.status_code == 409
    assert "72 hours" in late.json()["detail"]
    # the periodic task lapses it (once) and the GS carries on alone
    assert invitations_lapse() == 1
    assert invitations_lapse() == 0
    seen = ok(api_as(cast.admin_a).get(f"/api/v1/registrations/{invited['id']}/"))
    assert seen["status"] == "lapsed"
    assert ok(api_as(cast.gs).get(f"/api/v1/deals/{deal['id']}/"))["status"] == "open"
    # the partner can be invited again
    again = api_as(cast.gs).post(
        f"/api/v1/deals/{deal['id']}/invitations/", {"partner": cast.org_a.pk}
    )
    assert again.status_code == 201


# --- Eligibility, at quote save and again at close (SPEC 5) --------------------------------


def test_starter_only_quote_is_not_eligible(cast: Cast) -> None:
    deal_id, _ = shared_deal(cast, "admin_a")
    response = put_quote(cast.gs, deal_id, [STARTER_SALES])
    [message] = field_error(response, "lines", rule="starter_only")
    assert "Starter" in message
    assert not ok(api_as(cast.gs).get(f"/api/v1/deals/{deal_id}/"))["quote"]


def test_empty_quote_is_not_eligible(cast: Cast) -> None:
    deal_id, _ = shared_deal(cast, "admin_a")
    field_error(put_quote(cast.gs, deal_id, []), "lines")


def test_no_eligible_line_when_the_customer_holds_every_quoted_line(cast: Cast) -> None:
    subscribe(cast.ops, "acme.example", "marketing_hub", "professional")
    deal_id, _ = shared_deal(cast, "admin_a")
    # Professional to Enterprise on a line the customer holds: no credit without the association
    enterprise = {**PRO_MARKETING, "edition": "enterprise"}
    field_error(put_quote(cast.gs, deal_id, [enterprise]), "lines", rule="no_eligible_line")


def test_already_held_line_is_not_credited_at_close(cast: Cast, clock: Clock) -> None:
    subscribe(cast.ops, "acme.example", "service_hub", "professional")
    service = {**PRO_SALES, "product_line": "service_hub", "edition": "enterprise"}
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING, service])
    sign(cast.admin_a, ids["admin_a"])
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800.00"), ("service_hub", "900.00")),
        )
    )
    rules_by_line = {
        p["product_line"]: (p["credited"], p["eligibility_rule"]) for p in won["purchased_lines"]
    }
    assert rules_by_line == {
        "marketing_hub": (True, "eligible_edition"),
        "service_hub": (False, "already_held"),
    }
    assert held_lines(cast, "org_a") == {"marketing_hub"}


def test_eligibility_is_checked_again_at_close(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING, STARTER_SALES])
    sign(cast.admin_a, ids["admin_a"])
    refused = close(
        cast.gs, deal_id, close_date=clock.today(), lines=purchased(("sales_hub", "50.00"))
    )
    field_error(refused, "lines", rule="starter_only")
    assert ok(api_as(cast.gs).get(f"/api/v1/deals/{deal_id}/"))["status"] == "open"
    # bundled with the eligible line, the Starter line is credited
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800.00"), ("sales_hub", "50.00")),
        )
    )
    assert {p["product_line"]: p["eligibility_rule"] for p in won["purchased_lines"]} == {
        "marketing_hub": "eligible_edition",
        "sales_hub": "bundled_starter",
    }
    assert held_lines(cast, "org_a") == {"marketing_hub", "sales_hub"}


def test_starter_upgrade_is_eligible_when_no_other_partner_holds_the_line(
    cast: Cast, clock: Clock
) -> None:
    subscribe(cast.ops, "acme.example", "sales_hub", "starter", mrr="50.00")
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_SALES])
    sign(cast.admin_a, ids["admin_a"])
    won = ok(
        close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("sales_hub", "400")))
    )
    assert won["purchased_lines"][0]["eligibility_rule"] == "starter_upgrade"
    assert won["resolution"]["rule"] == "single_candidate"
    assert held_lines(cast, "org_a") == {"sales_hub"}


def test_starter_upgrade_is_blocked_when_another_partner_holds_the_line(cast: Cast) -> None:
    subscribe(cast.ops, "acme.example", "sales_hub", "starter", mrr="50.00")
    customer = Customer.objects.get(domain="acme.example")
    SoldAssociationFactory(
        organisation=cast.org_b,
        customer=customer,
        product_line=ProductLine.objects.get(code="sales_hub"),
    )
    deal_id, _ = shared_deal(cast, "admin_a")
    response = put_quote(cast.gs, deal_id, [PRO_SALES])
    field_error(response, "lines", rule="no_eligible_line")
    # the refusal names the rule, never the partner holding the line
    assert cast.org_b.name not in response.content.decode()
    # with an eligible line beside it the quote stands, and the held line is not credited
    quoted(cast.gs, deal_id, [PRO_SALES, CREDITS])


def test_discount_without_written_approval_is_refused(cast: Cast) -> None:
    deal_id, _ = shared_deal(cast, "admin_a")
    discounted = {**PRO_MARKETING, "discount_pct": "10"}
    response = put_quote(cast.gs, deal_id, [CREDITS, discounted])
    [message] = field_error(response, "lines[1].discount_approval", rule="discount_not_approved")
    assert "approval" in message
    quote = quoted(cast.gs, deal_id, [CREDITS, {**discounted, "discount_approval": "VP-2026-17"}])
    assert quote["lines"][1]["discount_approval"] == "VP-2026-17"
    assert Decimal(quote["lines"][1]["discount_pct"]) == Decimal("10")


# --- Proof of involvement (SPEC 5) ----------------------------------------------------------


def test_quote_generates_one_poi_per_partner_listing_its_lines(cast: Cast) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b")
    pending = registered(cast.provider_admin)  # not approved: no POI
    quote = quoted(cast.gs, deal_id, [PRO_MARKETING, STARTER_SALES])
    assert quote["version"] == 1
    assert sorted(p["registration"] for p in quote["pois"]) == sorted(ids.values())
    for who, registration_id in ids.items():
        mine = poi(cast.people()[who], registration_id)
        assert (mine["status"], mine["kind"], mine["quote_version"]) == ("pending", "auto", 1)
        assert sorted(mine["lines"]) == ["marketing_hub", "sales_hub"]
        assert mine["url"].endswith("/")
    assert api_as(cast.provider_admin).get(f"/api/v1/registrations/{pending}/poi/").status_code == (
        404
    )


def test_quote_change_voids_an_approved_poi_and_regenerates_it(cast: Cast) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    registration_id = ids["admin_a"]
    old_token = poi_token(cast.admin_a, registration_id)
    ok(answer_poi(old_token))
    quote = quoted(cast.gs, deal_id, [PRO_MARKETING, PRO_SALES])
    assert quote["version"] == 2
    # the approval on v1 is void, kept in history; a new link lists v2's lines
    current = poi(cast.admin_a, registration_id)
    assert (current["status"], current["quote_version"]) == ("pending", 2)
    assert sorted(current["lines"]) == ["marketing_hub", "sales_hub"]
    history = list(
        Poi.objects.filter(registration_id=registration_id)
        .order_by("id")
        .values_list("status", "status_before_void")
    )
    assert history == [("voided", "approved"), ("pending", "")]
    replaced = answer_poi(old_token)
    assert (replaced.status_code, replaced.json()["reason"]) == (410, "replaced")
    assert token_of(current["url"]) != old_token
    assert [p["registration"] for p in quote["pois"]] == [registration_id]


def test_manual_poi_only_after_the_customer_rejected_the_auto_one(cast: Cast) -> None:
    _, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING, PRO_SALES])
    registration_id = ids["admin_a"]
    early = manual_poi(cast.admin_a, registration_id, ["marketing_hub"])
    field_error(early, "non_field_errors", rule="manual_poi_not_allowed")
    sign(cast.admin_a, registration_id, "reject")
    # the lines must be a subset of the quote's
    field_error(
        manual_poi(cast.admin_a, registration_id, ["marketing_hub", "content_hub"]),
        "lines",
        rule="poi_lines_not_on_quote",
    )
    field_error(manual_poi(cast.admin_a, registration_id, []), "lines")
    # staff cannot create one for the partner
    assert manual_poi(cast.gs, registration_id, ["sales_hub"]).status_code == 403
    created = ok(manual_poi(cast.member_a, registration_id, ["sales_hub"], onboarding=True), 201)
    assert (created["kind"], created["status"], created["lines"]) == (
        "manual",
        "pending",
        ["sales_hub"],
    )
    assert created["provides_onboarding"] is True
    assert poi(cast.admin_a, registration_id) == created  # the manual POI is the current one
    # it is the live one now: no second manual POI while it is pending
    field_error(
        manual_poi(cast.admin_a, registration_id, ["sales_hub"]),
        "non_field_errors",
        rule="manual_poi_not_allowed",
    )


def test_provider_cannot_waive_onboarding(cast: Cast) -> None:
    _, ids = shared_deal(cast, "provider_admin", lines=[PRO_MARKETING])
    registration_id = ids["provider_admin"]
    sign(cast.provider_admin, registration_id, "reject")
    refused = manual_poi(cast.provider_admin, registration_id, ["marketing_hub"], onboarding=True)
    field_error(refused, "provides_onboarding", rule="provider_cannot_waive_onboarding")
    ok(manual_poi(cast.provider_admin, registration_id, ["marketing_hub"]), 201)


def test_poi_link_is_single_use(cast: Cast) -> None:
    _, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    token = poi_token(cast.admin_a, ids["admin_a"])
    answered = ok(answer_poi(token, "reject"))
    assert answered["status"] == "rejected"
    for decision in ("approve", "reject"):
        used = answer_poi(token, decision)
        assert (used.status_code, used.json()["reason"]) == (410, "used")
    assert poi(cast.admin_a, ids["admin_a"])["status"] == "rejected"


def test_poi_link_expires_after_the_expected_close_date(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a")
    quoted(cast.gs, deal_id, [PRO_MARKETING], expected_close_date="2026-03-20")
    token = poi_token(cast.admin_a, ids["admin_a"])
    clock.set("2026-03-21T00:00:00")  # the close date has ended
    expired = answer_poi(token)
    assert (expired.status_code, expired.json()["reason"]) == (410, "expired")
    clock.set("2026-03-20T23:59:59")  # still the close date
    assert ok(answer_poi(token))["status"] == "approved"


def test_poi_link_expired_when_the_close_date_passed(cast: Cast) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    token = poi_token(cast.admin_a, ids["admin_a"])
    Deal.objects.filter(pk=deal_id).update(expected_close_date=date(2020, 1, 31))
    expired = answer_poi(token)
    assert (expired.status_code, expired.json()["reason"]) == (410, "expired")
    assert poi(cast.admin_a, ids["admin_a"])["status"] == "pending"


def test_expected_close_date_in_the_past_is_refused(cast: Cast, clock: Clock) -> None:
    deal_id, _ = shared_deal(cast, "admin_a")
    refused = put_quote(cast.gs, deal_id, [PRO_MARKETING], expected_close_date="2026-03-09")
    field_error(refused, "expected_close_date")


def test_forged_poi_token_is_404(cast: Cast) -> None:
    _, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    token = poi_token(cast.admin_a, ids["admin_a"])
    nonce, signature = token.rsplit(":", 1)
    forged = [
        "not-a-token",
        f"{nonce}x:{signature}",
        f"{nonce}:{signature[:-2]}AA",
        f"{'A' * len(nonce)}:{signature}",
    ]
    for candidate in forged:
        response = answer_poi(candidate)
        assert response.status_code == 404, candidate
        assert cast.org_a.name not in response.content.decode()
    assert poi(cast.admin_a, ids["admin_a"])["status"] == "pending"


def test_poi_link_of_a_closed_deal_cannot_be_answered(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    token_b = poi_token(cast.admin_b, ids["admin_b"])
    ok(close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("marketing_hub", "800"))))
    closed = answer_poi(token_b)
    assert (closed.status_code, closed.json()["reason"]) == (410, "closed")


# --- Best Partner Wins: the worked cascade (SPEC 6) ----------------------------------------


def test_no_candidate(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"], "reject")
    won = ok(
        close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("marketing_hub", "800")))
    )
    assert won["status"] == "won"
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == ("no_candidate", None)
    assert won["resolution"]["excluded"] == [
        {"registration": ids["admin_a"], "rule": "not_approved"}
    ]
    assert not SoldAssociation.objects.exists()


def test_no_candidate_when_registered_on_another_domain_than_the_purchase(
    cast: Cast, clock: Clock
) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            domain="acme-group.example",
            lines=purchased(("marketing_hub", "800")),
            domain_mismatch_reason="Bought through its parent group's account.",
        )
    )
    assert won["resolution"]["rule"] == "no_candidate"
    assert won["resolution"]["excluded"] == [
        {"registration": ids["admin_a"], "rule": "other_domain"}
    ]


def test_single_candidate_wins(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING, PRO_SALES])
    sign(cast.admin_a, ids["admin_a"])
    sign(cast.admin_b, ids["admin_b"], "reject")
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800"), ("sales_hub", "400")),
        )
    )
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == (
        "single_candidate",
        ids["admin_a"],
    )
    assert won["resolution"]["winner_partner"] == cast.org_a.pk
    assert held_lines(cast, "org_a") == {"marketing_hub", "sales_hub"}
    association = SoldAssociation.objects.get(product_line_id="marketing_hub")
    assert (association.kind, association.close_date, association.mrr_at_close) == (
        "partner_sourced",
        clock.today(),
        Decimal("800.00"),
    )
    listed = ok(api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/associations/"))
    assert sorted(a["product_line"] for a in listed["results"]) == ["marketing_hub", "sales_hub"]
    assert (
        ok(api_as(cast.admin_b).get(f"/api/v1/partners/{cast.org_b.pk}/associations/"))["results"]
        == []
    )
    # closed once
    again = close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("sales_hub", "400")))
    assert again.status_code == 409


def test_sourcing_priority_referral_acknowledgement_and_onboarding_choice(
    cast: Cast, clock: Clock
) -> None:
    # given: A sourced the deal and refers B, who acknowledges in writing it is secondary
    deal_id, ids = shared_deal(cast, "admin_a")
    source = ids["admin_a"]
    referred = ok(
        api_as(cast.admin_a).post(
            f"/api/v1/registrations/{source}/referrals/", {"partner": cast.org_b.pk}
        ),
        201,
    )
    assert referred["id"] == source  # the response is the sourcing registration
    [secondary] = ok(api_as(cast.admin_b).get("/api/v1/registrations/"))["results"]
    assert (secondary["status"], secondary["referred"]) == ("referred", True)
    acknowledged = ok(
        api_as(cast.member_b).post(
            f"/api/v1/registrations/{secondary['id']}/acknowledge-secondary/"
        )
    )
    assert (acknowledged["status"], acknowledged["acknowledged_secondary"]) == ("approved", True)
    quoted(cast.gs, deal_id, [PRO_MARKETING])
    sign(cast.admin_a, source)
    sign(cast.admin_b, secondary["id"])
    # when: the customer chose the referred partner for onboarding
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800")),
            onboarding_partner=cast.org_b.pk,
        )
    )
    # then: the sourcing partner wins
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == (
        "sourcing_priority",
        source,
    )
    assert held_lines(cast, "org_a") == {"marketing_hub"}
    assert held_lines(cast, "org_b") == set()


def test_sourcing_priority_needs_the_written_acknowledgement(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING])
    ok(
        api_as(cast.admin_a).post(
            f"/api/v1/registrations/{ids['admin_a']}/referrals/", {"partner": cast.org_b.pk}
        ),
        201,
    )
    sign(cast.admin_a, ids["admin_a"])
    sign(cast.admin_b, ids["admin_b"])
    tied = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800")),
            onboarding_partner=cast.org_b.pk,
        )
    )
    assert (tied["status"], tied["resolution"]["rule"]) == (
        "awaiting_decision",
        "awaiting_decision",
    )


def test_highest_mrr_onboarding(cast: Cast, clock: Clock) -> None:
    # given: the customer signed POIs with A (onboarding Marketing, 800) and B (Sales, 400)
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING, PRO_SALES])
    for who, line in (("admin_a", "marketing_hub"), ("admin_b", "sales_hub")):
        user, registration_id = cast.people()[who], ids[who]
        sign(user, registration_id, "reject")
        ok(manual_poi(user, registration_id, [line], onboarding=True), 201)
        sign(user, registration_id)
    # when
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800"), ("sales_hub", "400")),
        )
    )
    # then
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == (
        "highest_mrr_onboarding",
        ids["admin_a"],
    )
    assert sorted(won["resolution"]["candidates"]) == sorted(ids.values())
    assert held_lines(cast, "org_a") == {"marketing_hub", "sales_hub"}


def test_highest_mrr_onboarding_uses_the_purchased_mrr(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING, PRO_SALES])
    for who, line in (("admin_a", "marketing_hub"), ("admin_b", "sales_hub")):
        user, registration_id = cast.people()[who], ids[who]
        sign(user, registration_id, "reject")
        ok(manual_poi(user, registration_id, [line], onboarding=True), 201)
        sign(user, registration_id)
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "300"), ("sales_hub", "1200")),
        )
    )
    assert won["resolution"]["winner"] == ids["admin_b"]


def test_tie_then_ops_decision(cast: Cast, clock: Clock) -> None:
    # given: two counting POIs and no onboarding: a tie; a third partner's POI does not count
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", "provider_admin", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    sign(cast.admin_b, ids["admin_b"])
    tied = ok(
        close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("marketing_hub", "800")))
    )
    assert tied["status"] == "awaiting_decision"
    assert (tied["resolution"]["rule"], tied["resolution"]["winner"]) == ("awaiting_decision", None)
    assert tied["resolution"]["tied"] == sorted([ids["admin_a"], ids["admin_b"]])
    assert not SoldAssociation.objects.exists()
    decide = f"/api/v1/deals/{deal_id}/decide/"
    # only partner ops decide
    assert (
        api_as(cast.gs).post(decide, {"registration": ids["admin_a"], "reason": "x"}).status_code
        == 403
    )
    # a reason is required
    ops = api_as(cast.ops)
    field_error(
        ops.post(decide, {"registration": ids["admin_a"], "reason": "  "}),
        "reason",
        rule="reason_required",
    )
    # only a tied registration can be chosen
    field_error(
        ops.post(decide, {"registration": ids["provider_admin"], "reason": "Best fit"}),
        "registration",
        rule="not_tied",
    )
    # when
    decided = ok(ops.post(decide, {"registration": ids["admin_b"], "reason": "Ran the demo"}))
    # then: final, with its reason; the winner gets the association
    assert decided["status"] == "won"
    assert (decided["resolution"]["rule"], decided["resolution"]["winner"]) == (
        "ops_decision",
        ids["admin_b"],
    )
    assert decided["resolution"]["decision_reason"] == "Ran the demo"
    assert decided["resolution"]["decided_by"] == cast.ops.email
    assert held_lines(cast, "org_b") == {"marketing_hub"}
    again = ops.post(decide, {"registration": ids["admin_a"], "reason": "Changed my mind"})
    assert again.status_code == 409


def test_decision_on_a_deal_not_awaiting_one_is_refused(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    response = api_as(cast.ops).post(
        f"/api/v1/deals/{deal_id}/decide/", {"registration": ids["admin_a"], "reason": "x"}
    )
    assert response.status_code == 409


def test_late_signature_ignored(cast: Cast, clock: Clock) -> None:
    # given: A signed on the 10th, B only on the 12th; the sale closed on the 11th
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    clock.set("2026-03-12T09:00:00")
    sign(cast.admin_b, ids["admin_b"])
    # when
    won = ok(
        close(cast.gs, deal_id, close_date="2026-03-11", lines=purchased(("marketing_hub", "800")))
    )
    # then: B's late signature is ignored, A is the single candidate
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == (
        "single_candidate",
        ids["admin_a"],
    )
    assert won["resolution"]["excluded"] == [
        {"registration": ids["admin_b"], "rule": "late_signature"}
    ]


def test_poi_outside_the_month_of_the_sale(cast: Cast, clock: Clock) -> None:
    clock.set("2026-02-26T10:00:00")
    deal_id, ids = shared_deal(cast, "admin_a", "admin_b")
    quoted(cast.gs, deal_id, [PRO_MARKETING], expected_close_date="2026-03-31")
    sign(cast.admin_a, ids["admin_a"])  # in February
    clock.set("2026-03-02T10:00:00")
    sign(cast.admin_b, ids["admin_b"])  # in March, the month of the sale
    won = ok(
        close(cast.gs, deal_id, close_date="2026-03-02", lines=purchased(("marketing_hub", "800")))
    )
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == (
        "single_candidate",
        ids["admin_b"],
    )
    assert won["resolution"]["excluded"] == [
        {"registration": ids["admin_a"], "rule": "outside_sale_month"}
    ]


def test_signature_voided_by_quote_change(cast: Cast, clock: Clock) -> None:
    # given: the customer signed A's POI on quote v1, then the GS changed the quote
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    quoted(cast.gs, deal_id, [{**PRO_MARKETING, "mrr": "900.00"}])
    # when
    won = ok(
        close(cast.gs, deal_id, close_date=clock.today(), lines=[{"product_line": "marketing_hub"}])
    )
    # then: the v1 signature does not count; the purchase is v2's
    assert (won["resolution"]["rule"], won["resolution"]["winner"]) == ("no_candidate", None)
    assert won["resolution"]["excluded"] == [
        {"registration": ids["admin_a"], "rule": "not_approved"}
    ]
    assert won["purchased_lines"][0]["mrr"] == "900.00"
    assert not SoldAssociation.objects.exists()


def test_signature_on_the_new_version_counts(cast: Cast, clock: Clock) -> None:
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    quoted(cast.gs, deal_id, [{**PRO_MARKETING, "mrr": "900.00"}])
    sign(cast.admin_a, ids["admin_a"])
    won = ok(
        close(cast.gs, deal_id, close_date=clock.today(), lines=[{"product_line": "marketing_hub"}])
    )
    assert won["resolution"]["winner"] == ids["admin_a"]


# --- Sold associations and upsells (SPEC 6) -------------------------------------------------


def test_one_partner_per_customer_and_product_line(cast: Cast, clock: Clock) -> None:
    # given: B holds the Marketing Hub association of acme.example (no live subscription)
    customer = Customer.objects.create(
        domain="acme.example", name="Acme", country_id="GB", segment="smb"
    )
    SoldAssociationFactory(
        organisation=cast.org_b,
        customer=customer,
        product_line=ProductLine.objects.get(code="marketing_hub"),
    )
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING, PRO_SALES])
    sign(cast.admin_a, ids["admin_a"])
    # when: A wins a deal on both lines
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800"), ("sales_hub", "400")),
        )
    )
    # then: A gets only the line nobody holds; B keeps its line
    assert won["resolution"]["winner"] == ids["admin_a"]
    assert held_lines(cast, "org_a") == {"sales_hub"}
    assert held_lines(cast, "org_b") == {"marketing_hub"}
    # and the database refuses a second holder outright
    with pytest.raises(IntegrityError), transaction.atomic():
        SoldAssociationFactory(
            organisation=cast.org_a,
            customer=customer,
            product_line=ProductLine.objects.get(code="marketing_hub"),
        )


def test_upsell_on_a_line_held_by_another_partner_gives_no_credit(cast: Cast, clock: Clock) -> None:
    # given: B holds Marketing Hub (Professional) at acme.example
    subscribe(cast.ops, "acme.example", "marketing_hub", "professional")
    customer = Customer.objects.get(domain="acme.example")
    SoldAssociationFactory(
        organisation=cast.org_b,
        customer=customer,
        product_line=ProductLine.objects.get(code="marketing_hub"),
    )
    # when: A sells the Enterprise upgrade with credits
    deal_id, ids = shared_deal(
        cast, "admin_a", lines=[{**PRO_MARKETING, "edition": "enterprise"}, CREDITS]
    )
    sign(cast.admin_a, ids["admin_a"])
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "1500"), ("credits", "100")),
        )
    )
    # then: A is credited for the credits only
    assert {p["product_line"]: p["credited"] for p in won["purchased_lines"]} == {
        "marketing_hub": False,
        "credits": True,
    }
    assert held_lines(cast, "org_a") == {"credits"}
    assert held_lines(cast, "org_b") == {"marketing_hub"}


def test_professional_to_enterprise_upsell_gives_no_credit_without_the_association(
    cast: Cast, clock: Clock
) -> None:
    # given: the customer holds Marketing Hub Professional; nobody holds its association
    subscribe(cast.ops, "acme.example", "marketing_hub", "professional")
    deal_id, ids = shared_deal(
        cast, "admin_a", lines=[{**PRO_MARKETING, "edition": "enterprise"}, CREDITS]
    )
    sign(cast.admin_a, ids["admin_a"])
    # when: A closes the upgrade to Enterprise with credits
    won = ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "1500"), ("credits", "100")),
        )
    )
    # then: the upgrade earns A nothing on Marketing Hub
    assert {p["product_line"]: p["eligibility_rule"] for p in won["purchased_lines"]} == {
        "marketing_hub": "already_held",
        "credits": "credits",
    }
    assert held_lines(cast, "org_a") == {"credits"}


def test_holder_keeps_its_line_when_it_wins_again(cast: Cast, clock: Clock) -> None:
    # given: A won Marketing Hub at acme.example on an earlier deal
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING])
    sign(cast.admin_a, ids["admin_a"])
    ok(close(cast.gs, deal_id, close_date=clock.today(), lines=purchased(("marketing_hub", "800"))))
    first = SoldAssociation.objects.get()
    # when: A wins a later deal on the same customer with Marketing Hub and Sales Hub
    clock.advance(timedelta(days=1))
    deal_id, ids = shared_deal(cast, "admin_a", lines=[PRO_MARKETING, PRO_SALES])
    sign(cast.admin_a, ids["admin_a"])
    ok(
        close(
            cast.gs,
            deal_id,
            close_date=clock.today(),
            lines=purchased(("marketing_hub", "800"), ("sales_hub", "400")),
        )
    )
    # then: the first association is kept as it was, the new line is added
    assert SoldAssociation.objects.get(product_line_id="marketing_hub") == first
    assert held_lines(cast, "org_a") == {"marketing_hub", "sales_hub"}


# --- Responsiveness (SPEC 5) ----------------------------------------------------------------


def _ask(cast: Cast, registration_id: int, question: str = "Who is the sponsor?") -> dict:
    return ok(
        api_as(cast.gs).post(
            f"/api/v1/registrations/{registration_id}/inquiries/", {"question": question}
        ),
        201,
    )


def _answer(user: object, inquiry_id: int, text: str = "The CMO.") -> dict:
    return ok(api_as(user).post(f"/api/v1/inquiries/{inquiry_id}/answer/", {"answer": text}))


def test_inquiry_due_after_48_business_hours(cast: Cast, clock: Clock) -> None:
    _, ids = shared_deal(cast, "admin_a")
    clock.set("2026-03-06T10:00:00")  # a Friday: the weekend does not count
    inquiry = _ask(cast, ids["admin_a"])
    assert inquiry["answer_due_at"] == "2026-03-10T10:00:00Z"
    seen = ok(api_as(cast.member_a).get(f"/api/v1/registrations/{ids['admin_a']}/inquiries/"))
    assert [(i["id"], i["overdue"]) for i in seen] == [(inquiry["id"], False)]
    clock.set("2026-03-10T10:00:00")  # exactly at the deadline: on time
    answered = _answer(cast.member_a, inquiry["id"])
    assert (answered["breach"], answered["answer"]) == (False, "The CMO.")
    assert (
        api_as(cast.admin_a)
        .post(f"/api/v1/inquiries/{inquiry['id']}/answer/", {"answer": "Again"})
        .status_code
        == 409
    )


def test_answer_after_the_deadline_is_marked_breach(cast: Cast, clock: Clock) -> None:
    _, ids = shared_deal(cast, "admin_a")
    clock.set("2026-03-02T10:00:00")  # a Monday
    inquiry = _ask(cast, ids["admin_a"])
    assert inquiry["answer_due_at"] == "2026-03-04T10:00:00Z"
    clock.set("2026-03-04T10:00:01")
    seen = ok(api_as(cast.gs).get(f"/api/v1/registrations/{ids['admin_a']}/inquiries/"))
    assert seen[0]["overdue"] is True
    assert _answer(cast.admin_a, inquiry["id"])["breach"] is True
    # the GS sees the breach on the deal
    shown = ok(api_as(cast.gs).get(f"/api/v1/registrations/{ids['admin_a']}/inquiries/"))
    assert shown[0]["breach"] is True


def test_inquiry_on_a_public_holiday_is_due_at_17h_next_business_day(
    cast: Cast, clock: Clock
) -> None:
    # GB: Friday 25 December 2026 is Christmas; Boxing Day is observed on Monday 28th
    clock.set("2026-12-01T10:00:00")
    _, ids = shared_deal(cast, "admin_a")
    clock.set("2026-12-25T09:30:00")
    inquiry = _ask(cast, ids["admin_a"])
    assert inquiry["answer_due_at"] == "2026-12-29T17:00:00Z"
    clock.set("2026-12-29T17:00:01")
    assert _answer(cast.admin_a, inquiry["id"])["breach"] is True


def test_inquiry_needs_a_question_and_an_answer(cast: Cast) -> None:
    _, ids = shared_deal(cast, "admin_a")
    asked = api_as(cast.gs).post(
        f"/api/v1/registrations/{ids['admin_a']}/inquiries/", {"question": " "}
    )
    field_error(asked, "question")
    inquiry = _ask(cast, ids["admin_a"])
    field_error(
        api_as(cast.admin_a).post(f"/api/v1/inquiries/{inquiry['id']}/answer/", {"answer": ""}),
        "answer",
    )
