"""The tier API (SPEC 11): runs, a partner's tier and history, Elite invitations; tenancy
(another partner's tier is a 404, a PDM sees only its partners) and a bounded query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partnerportal.core.models import AuditEvent, Country, Currency, Organisation, ProductLine
from tests.cast import Cast, api_as
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    SoldAssociationFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
)
from tiers import services
from tiers.models import EliteInvitation, TierAssessment, TierRun

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 15)


def line(
    org: Organisation,
    *,
    mrr: str,
    country: str = "GB",
    product_line: str = "marketing_hub",
    sold: str | None = None,
    managed: bool = False,
) -> None:
    """A customer billed `mrr` USD from February 2026, sold by `org` (`sold` kind) or managed."""
    customer = CustomerFactory(country=Country.objects.get(code=country))
    subscription = SubscriptionFactory(
        customer=customer, product_line=ProductLine.objects.get(code=product_line)
    )
    SubscriptionVersionFactory(
        subscription=subscription,
        mrr=Decimal(mrr),
        currency=Currency.objects.get(code="USD"),
        effective_from=date(2026, 2, 1),
    )
    if sold:
        SoldAssociationFactory(
            organisation=org,
            customer=customer,
            product_line=subscription.product_line,
            kind=f"partner_{sold}",
            close_date=date(2026, 1, 20),
        )
    if managed:
        ActivityFactory(
            organisation=org, customer=customer, occurred_at=datetime(2026, 3, 1, tzinfo=UTC)
        )


@pytest.fixture
def assessed(cast: Cast) -> Cast:
    """A's March 2026 figures: sourced USD 2 000 new (2 000 x 5 / 100 = 100), assisted USD 500
    new in Brazil (500 x 3 x 2 / 100 = 30), managed USD 5 000 (50): total 180, untiered.
    Gold (2026 rules) needs sold 110, managed 38, total 325: it misses 10, 0 and 145."""
    a = cast.org_a
    line(a, mrr="2000.00", sold="sourced")
    line(a, mrr="500.00", country="BR", sold="assisted")
    line(a, mrr="5000.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    return cast


def points(**values: str) -> dict[str, str]:
    return {key: f"{Decimal(value):.12f}" for key, value in values.items()}


def test_tier_shows_the_latest_assessment_and_the_gap_to_the_next_tier(assessed: Cast) -> None:
    # when
    response = api_as(assessed.member_a).get(f"/api/v1/partners/{assessed.org_a.pk}/tier/")

    # then
    assert response.status_code == 200
    body = response.json()
    lines = body.pop("lines")
    assert body == {
        "partner": assessed.org_a.pk,
        "tier": "untiered",
        "as_of": "2026-03-15",
        "rule_set_effective_from": "2026-01-15",
        "at_risk": False,
        "next_down_tiering_window": "2026-07-15",
        "elite_qualified": False,
        "elite_invited": False,
        "points": points(sourced="100", assisted="30", managed="50", total="180"),
        "next_tier": {"name": "gold", "missing": points(sold="10", managed="0", total="145")},
        # Sold MRR: USD 2 000 sourced and USD 500 assisted (20 and 5 USD-100 units): 80 %
        # sourced; no accreditation, untiered, no certification, retention not needed.
        "partner_matching": {
            "eligible": False,
            "reasons": [
                "no_valid_accreditation",
                "tier_below_minimum",
                "no_software_certification",
                "no_implementation_certification",
                "retention_below_minimum",
            ],
            "sourced_share_pct": "80.0000",
        },
        # The lines are paginated (issue 13): all three fit the first page, the default.
        "lines_count": 3,
        "lines_page": 1,
        "lines_page_size": 100,
        "next": None,
        "previous": None,
    }
    assert sorted((x["kind"], x["mrr_this_month"], x["points"]) for x in lines) == [
        ("assisted", "500.00", f"{30:.12f}"),
        ("managed", "5000.00", f"{50:.12f}"),
        ("sourced", "2000.00", f"{100:.12f}"),
    ]
    sourced = next(x for x in lines if x["kind"] == "sourced")
    assert set(sourced) == {
        "customer",
        "customer_name",
        "product_line",
        "kind",
        "mrr_this_month",
        "mrr_year_ago",
        "currency",
        "growth_market",
        "points",
    }
    assert (sourced["mrr_year_ago"], sourced["currency"], sourced["growth_market"]) == (
        "0.00",
        "USD",
        False,
    )


def test_tier_before_any_assessment_shows_the_full_minimums(cast: Cast) -> None:
    body = api_as(cast.ops).get(f"/api/v1/partners/{cast.org_a.pk}/tier/").json()

    assert (body["as_of"], body["lines"], body["at_risk"]) == (None, [], False)
    assert body["points"] == points(sourced="0", assisted="0", managed="0", total="0")
    assert body["next_tier"] == {
        "name": "gold",
        "missing": points(sold="110", managed="38", total="325"),
    }


def test_another_partner_cannot_read_a_tier_or_its_assessments(assessed: Cast) -> None:
    for path in ("tier", "tier-assessments"):
        url = f"/api/v1/partners/{assessed.org_a.pk}/{path}/"
        for person in (assessed.admin_b, assessed.member_b, assessed.provider_admin):
            response = api_as(person).get(url)
            assert response.status_code == 404
            assert assessed.org_a.name not in response.content.decode()
            assert "180" not in response.content.decode()


def test_a_pdm_reads_only_its_own_partners(assessed: Cast) -> None:
    client = api_as(assessed.pdm)  # assigned to A only

    assert client.get(f"/api/v1/partners/{assessed.org_a.pk}/tier/").status_code == 200
    assert client.get(f"/api/v1/partners/{assessed.org_b.pk}/tier/").status_code == 404
    assert client.get(f"/api/v1/partners/{assessed.org_b.pk}/tier-assessments/").status_code == (
        404
    )


def test_staff_who_see_a_partner_but_not_its_tier_are_refused(assessed: Cast) -> None:
    for person in (assessed.gs, assessed.finance):
        response = api_as(person).get(f"/api/v1/partners/{assessed.org_a.pk}/tier/")
        assert response.status_code == 403


def test_a_provider_has_no_tier(cast: Cast) -> None:
    for person in (cast.ops, cast.provider_admin):
        client = api_as(person)
        assert client.get(f"/api/v1/partners/{cast.provider.pk}/tier/").status_code == 404
        url = f"/api/v1/partners/{cast.provider.pk}/tier-assessments/"
        assert client.get(url).status_code == 404


def test_assessment_history_is_newest_first_and_paginated(assessed: Cast) -> None:
    services.tier_run(as_of=date(2026, 4, 15), actor=None)

    body = (
        api_as(assessed.admin_a)
        .get(f"/api/v1/partners/{assessed.org_a.pk}/tier-assessments/")
        .json()
    )

    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    april, march = body["results"]
    assert (april["as_of"], march["as_of"]) == ("2026-04-15", "2026-03-15")
    assert march["points"] == points(sourced="100", assisted="30", managed="50", total="180")
    assert (march["tier_before"], march["qualified_tier"], march["tier_after"]) == (
        "untiered",
        "untiered",
        "untiered",
    )
    assert (march["sold_source"], march["rule_set_effective_from"]) == (
        "associations",
        "2026-01-15",
    )
    assert march["customer_retention_pct"] is None
    assert {x["id"] for x in body["results"]} == set(
        TierAssessment.objects.filter(organisation=assessed.org_a).values_list("pk", flat=True)
    )


def _link(url: str) -> tuple[str, dict[str, list[str]]]:
    """The path and query of a page link (an absolute URL)."""
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "testserver")
    return parts.path, parse_qs(parts.query)


def _many_lines(cast: Cast, lines: int) -> None:
    """`lines` managed customers of A, each USD 100 (1 point), assessed in March."""
    for _ in range(lines):
        line(cast.org_a, mrr="100.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)


def _tier_queries(cast: Cast, lines: int, query: str = "", *, shown: int | None = None) -> int:
    _many_lines(cast, lines)
    client = api_as(cast.member_a)
    url = f"/api/v1/partners/{cast.org_a.pk}/tier/{query}"
    client.get(url)  # warm: token lookup and the assessment's summary cached alike
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["lines"]) == (min(lines, 100) if shown is None else shown)
    return len(queries)


@pytest.mark.parametrize("lines", [3, 40, 150])
def test_the_tier_is_read_in_a_bounded_number_of_queries(cast: Cast, lines: int) -> None:
    # Token and user, partner, latest assessment, currencies; the first page of lines comes
    # with the assessment's cached summary.
    assert _tier_queries(cast, lines) == TIER_QUERIES


@pytest.mark.parametrize(("lines", "shown"), [(3, 0), (150, 50)])
def test_a_later_page_of_lines_reads_one_query_more(cast: Cast, lines: int, shown: int) -> None:
    assert _tier_queries(cast, lines, "?lines_page=2", shown=shown) <= TIER_QUERIES + 1


def test_the_first_read_of_an_assessment_is_bounded_too(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    _many_lines(cast, 120)
    client = api_as(cast.member_a)

    # + the rule set's targets, the sums by kind, the first lines with the count, once.
    with django_assert_max_num_queries(TIER_QUERIES + 3):
        response = client.get(f"/api/v1/partners/{cast.org_a.pk}/tier/")

    assert response.status_code == 200


TIER_QUERIES = 4


def test_the_lines_come_in_pages_with_links_to_the_next_and_previous(cast: Cast) -> None:
    # given 5 managed customers of 1 point each: 5 points, 5 lines
    _many_lines(cast, 5)
    client = api_as(cast.member_a)
    url = f"/api/v1/partners/{cast.org_a.pk}/tier/"

    # when
    first = client.get(url, {"lines_page_size": 2}).json()
    second = client.get(url, {"lines_page_size": 2, "lines_page": 2}).json()
    last = client.get(url, {"lines_page_size": 2, "lines_page": 3}).json()
    beyond = client.get(url, {"lines_page_size": 2, "lines_page": 4}).json()

    # then: every page carries the whole assessment's points, and its own lines
    assert [len(p["lines"]) for p in (first, second, last, beyond)] == [2, 2, 1, 0]
    assert {p["lines_count"] for p in (first, second, last, beyond)} == {5}
    assert {p["points"]["total"] for p in (first, second, last)} == {f"{5:.12f}"}
    assert _link(first["next"]) == (url, {"lines_page_size": ["2"], "lines_page": ["2"]})
    assert first["previous"] is None
    assert _link(second["previous"]) == (url, {"lines_page_size": ["2"], "lines_page": ["1"]})
    assert last["next"] is None
    domains = [x["customer"] for p in (first, second, last) for x in p["lines"]]
    everything = client.get(url).json()
    assert domains == [x["customer"] for x in everything["lines"]]
    assert len(set(domains)) == 5


def test_the_first_page_of_lines_is_the_default_and_the_same_cached_or_not(cast: Cast) -> None:
    _many_lines(cast, 120)
    client = api_as(cast.member_a)
    url = f"/api/v1/partners/{cast.org_a.pk}/tier/"

    built = client.get(url).json()  # builds and caches the assessment's summary
    cached = client.get(url).json()
    explicit = client.get(url, {"lines_page": 1, "lines_page_size": 100}).json()
    rest = client.get(url, {"lines_page": 2}).json()

    assert built == cached
    assert {**explicit, "next": None} == {**built, "next": None}
    assert (built["lines_count"], len(built["lines"]), len(rest["lines"])) == (120, 100, 20)
    assert rest["next"] is None
    assert _link(built["next"]) == (url, {"lines_page": ["2"]})


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lines_page": 0}, "lines_page"),
        ({"lines_page": "two"}, "lines_page"),
        ({"lines_page_size": 1001}, "lines_page_size"),
        ({"lines_page_size": 0}, "lines_page_size"),
    ],
)
def test_a_bad_page_of_lines_is_a_400_naming_the_parameter(
    assessed: Cast, query: dict[str, Any], field: str
) -> None:
    response = api_as(assessed.member_a).get(f"/api/v1/partners/{assessed.org_a.pk}/tier/", query)

    assert response.status_code == 400
    assert field in response.json()


def test_the_schema_documents_the_pages_of_lines(cast: Cast) -> None:
    schema = api_as(None).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/partners/{id}/tier/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(parameters) >= {"lines_page", "lines_page_size"}
    assert parameters["lines_page_size"]["schema"]["maximum"] == 1000
    body = schema["components"]["schemas"]["PartnerTierOut"]["properties"]
    assert {"tier", "as_of", "at_risk", "elite_qualified", "points", "next_tier", "lines"} <= set(
        body
    )
    assert {"lines_count", "lines_page", "lines_page_size", "next", "previous"} <= set(body)


def test_a_new_run_is_read_afresh_not_from_the_previous_assessments_cache(cast: Cast) -> None:
    # March: one managed customer (1 point), read once (cached).
    _many_lines(cast, 1)
    client = api_as(cast.member_a)
    url = f"/api/v1/partners/{cast.org_a.pk}/tier/"
    assert client.get(url).json()["lines_count"] == 1
    # April: a second managed customer, active in April, billed from February.
    line(cast.org_a, mrr="300.00", managed=True)
    services.tier_run(as_of=date(2026, 4, 15), actor=None)

    body = client.get(url).json()

    assert (body["as_of"], body["lines_count"]) == ("2026-04-15", 2)
    assert body["points"]["managed"] == f"{4:.12f}"


# --- POST /tier-runs/ -------------------------------------------------------------------------


def run(cast: Cast, body: dict[str, Any]) -> Any:
    return api_as(cast.ops).post("/api/v1/tier-runs/", body, format="json")


def test_partner_ops_run_a_date_and_get_the_run_record(cast: Cast) -> None:
    # when
    response = run(cast, {"as_of": "2026-03-15"})

    # then
    assert response.status_code == 201
    body = response.json()
    record = TierRun.objects.get()
    assert (body["id"], body["partners_assessed"], body["tier_changes"]) == (record.pk, 2, 0)
    assert (body["as_of"], body["rule_set_effective_from"], body["trigger"]) == (
        "2026-03-15",
        "2026-01-15",
        "api",
    )
    assert body["finished_at"] is not None
    assert record.requested_by == cast.ops
    assert AuditEvent.objects.get(verb="tiers.run.completed").actor == cast.ops


def test_running_a_date_again_is_a_new_run_that_assesses_nobody(cast: Cast) -> None:
    first = run(cast, {"as_of": "2026-03-15"}).json()

    again = run(cast, {"as_of": "2026-03-15"})

    assert again.status_code == 201
    assert again.json()["id"] != first["id"]
    assert again.json()["partners_assessed"] == 0
    assert TierAssessment.objects.count() == 2


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2026-02-30", "Date has wrong format"),
        ("", "Date has wrong format"),
        (None, "This field may not be null"),
        ("2025-07-14", "No tier rule set is in force on 2025-07-14"),
        ("tomorrow", "is in the future"),
        ("1999-12-31", "Give a run date from 2000-01-01 on."),
        ("0001-01-01", "Give a run date from 2000-01-01 on."),
        ("9999-12-31", "is in the future"),
    ],
)
def test_a_bad_run_date_is_a_400_naming_the_field(
    cast: Cast, as_of: str | None, message: str
) -> None:
    if as_of == "tomorrow":
        as_of = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = run(cast, {"as_of": as_of})

    assert response.status_code == 400
    assert message in response.json()["as_of"][0]
    assert not TierAssessment.objects.exists()


def test_a_date_without_a_rule_set_is_a_400_naming_the_rule(cast: Cast) -> None:
    response = run(cast, {"as_of": "2025-07-14"})

    assert response.status_code == 400
    assert response.json()["rule"] == ["no_rule_set_in_force"]


def test_the_schema_describes_every_tier_request_body_field(cast: Cast) -> None:
    schema = api_as(cast.ops).get("/api/schema/?format=json").json()["components"]["schemas"]

    assert schema["TierRunInRequest"]["properties"]["as_of"] == {
        "type": "string",
        "format": "date",
        "description": schema["TierRunInRequest"]["properties"]["as_of"]["description"],
    }
    assert schema["TierRunInRequest"]["required"] == ["as_of"]
    reason = schema["EliteInvitationInRequest"]["properties"]["reason"]
    assert (reason["type"], reason["maxLength"], reason["minLength"]) == ("string", 2000, 1)


def test_a_missing_run_date_is_a_400(cast: Cast) -> None:
    response = run(cast, {})
    assert response.status_code == 400
    assert "as_of" in response.json()


# --- POST /partners/{id}/elite-invitation/ ----------------------------------------------------


def invite(cast: Cast, org: Organisation, body: dict[str, Any]) -> Any:
    return api_as(cast.ops).post(
        f"/api/v1/partners/{org.pk}/elite-invitation/", body, format="json"
    )


def test_partner_ops_invite_a_partner_to_elite(cast: Cast) -> None:
    response = invite(cast, cast.org_a, {"reason": "Three strong quarters"})

    assert response.status_code == 201
    invitation = EliteInvitation.objects.get()
    assert response.json() == {
        "id": invitation.pk,
        "partner": cast.org_a.pk,
        "invited_at": response.json()["invited_at"],
        "invited_by": cast.ops.email,
        "reason": "Three strong quarters",
    }
    assert AuditEvent.objects.filter(verb="tiers.elite.invited", actor=cast.ops).count() == 1


def test_inviting_again_returns_the_invitation_unchanged(cast: Cast) -> None:
    first = invite(cast, cast.org_a, {"reason": "First"}).json()

    again = invite(cast, cast.org_a, {"reason": "Second"})

    assert again.status_code == 200
    assert again.json() == first


@pytest.mark.parametrize(
    ("org", "body", "field"),
    [
        ("org_a", {}, "reason"),
        ("org_a", {"reason": "  "}, "reason"),
        ("org_a", {"reason": "x" * 1_000_000}, "reason"),
        ("provider", {"reason": "x"}, "partner"),
    ],
)
def test_a_bad_invitation_is_a_400_naming_the_field(
    cast: Cast, org: str, body: dict[str, Any], field: str
) -> None:
    response = invite(cast, getattr(cast, org), body)

    assert response.status_code == 400
    assert field in response.json()
    assert not EliteInvitation.objects.exists()


def test_an_invitation_shows_on_the_tier_from_the_next_run(cast: Cast) -> None:
    invite(cast, cast.org_a, {"reason": "Strong year"})
    # The run is dated today by the process clock: the invitation of today counts.
    today = timezone.localdate()
    services.tier_run(as_of=today, actor=None)

    body = api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/tier/").json()

    assert (body["as_of"], body["elite_invited"]) == (today.isoformat(), True)
