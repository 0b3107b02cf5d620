"""The deal journey through the API, end to end: the happy path of each motion."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from deals.models import Deal, Poi, Registration, SoldAssociation
from tests.cast import Cast, api_as


def _register(user, domain="acme.example", country="GB", segment="smb"):  # type: ignore[no-untyped-def]
    return api_as(user).post(
        "/api/v1/registrations/",
        {
            "customer_domain": domain,
            "customer_name": "Acme",
            "country": country,
            "segment": segment,
        },
        format="json",
    )


QUOTE = {
    "lines": [
        {
            "product_line": "marketing_hub",
            "edition": "professional",
            "mrr": "800.00",
            "currency": "USD",
            "seats": 3,
        },
        {"product_line": "sales_hub", "edition": "starter", "mrr": "50.00", "currency": "USD"},
    ]
}


def test_partner_sourced_single_candidate_wins_and_gets_associations(cast: Cast) -> None:
    response = _register(cast.admin_a, "https://www.Acme.example/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["motion"] == "partner_sourced"
    assert body["status"] == "pending_approval"
    assert body["customer_domain"] == "acme.example"
    registration = Registration.objects.get(pk=body["id"])
    deal = registration.deal
    assert deal.growth_specialist == cast.gs

    gs = api_as(cast.gs)
    assert gs.post(f"/api/v1/registrations/{registration.pk}/approve/").status_code == 200
    quote = gs.put(f"/api/v1/deals/{deal.pk}/quote/", QUOTE, format="json")
    assert quote.status_code == 200, quote.content
    assert quote.json()["version"] == 1
    [poi_ref] = quote.json()["pois"]
    token = poi_ref["url"].rstrip("/").rsplit("/", 1)[1]

    poi = api_as(cast.admin_a).get(f"/api/v1/registrations/{registration.pk}/poi/").json()
    assert poi["status"] == "pending"
    assert set(poi["lines"]) == {"marketing_hub", "sales_hub"}

    answer = api_as(None).post(f"/api/v1/poi/{token}/", {"decision": "approve"}, format="json")
    assert answer.status_code == 200, answer.content
    again = api_as(None).post(f"/api/v1/poi/{token}/", {"decision": "reject"}, format="json")
    assert again.status_code == 410

    close = gs.post(
        f"/api/v1/deals/{deal.pk}/close/",
        {
            "purchase_domain": "acme.example",
            "close_date": timezone.localdate().isoformat(),
            "lines": [
                {"product_line": "marketing_hub", "mrr": "800.00"},
                {"product_line": "sales_hub", "mrr": "50.00"},
            ],
        },
        format="json",
    )
    assert close.status_code == 200, close.content
    assert close.json()["status"] == "won"
    assert close.json()["resolution"]["rule"] == "single_candidate"
    assert close.json()["resolution"]["winner"] == registration.pk
    assert set(
        SoldAssociation.objects.filter(organisation=cast.org_a).values_list(
            "product_line_id", flat=True
        )
    ) == {"marketing_hub", "sales_hub"}
    assoc = api_as(cast.admin_a).get(f"/api/v1/partners/{cast.org_a.pk}/associations/")
    assert assoc.status_code == 200
    assert len(assoc.json()["results"]) == 2
    assert "id" not in poi  # consecutive POI ids would hint at other partners
    assert Poi.objects.get(registration=registration, quote__number=1).status == "approved"
    assert Deal.objects.get(pk=deal.pk).close_date == timezone.localdate()
    assert isinstance(Deal.objects.get(pk=deal.pk).close_date, date)
