"""One domain rule (SPEC 3, issue 9): registration and the purchase domain at the close are read
by `core.rules.normalise_domain` alone, so a domain refused at one is refused at the other, on
the field, by the API and by the pages alike; and one accepted at both means the same customer.

Before issue 9 the close used a second normaliser: `user@acme.example` became `acme.example`
there (and the deal closed) while registration refused it, and `acme.c0m` was accepted at the
close while registration refused it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deals.models import Deal, Registration
from tests.cast import Cast, browser_as

from .api_steps import PRO_MARKETING, approved, close, deal_of, field_error, ok, quoted, register
from .test_access_pages import quoted_deal

pytestmark = pytest.mark.django_db

REFUSED = ["user@acme.example", "acme.c0m", "acme", "acme.123", "http://"]


def _close_page(cast: Cast, deal_id: int, domain: str) -> str:
    response = browser_as(cast.gs).post(
        f"/deals/{deal_id}/close/",
        {
            "purchase_domain": domain,
            "close_date": timezone.localdate().isoformat(),
            "buy_marketing_hub": "on",
            "mrr_marketing_hub": "800.00",
        },
    )
    assert response.status_code == 400, (domain, response.status_code)
    return response.content.decode()


@pytest.mark.parametrize("raw", REFUSED)
def test_a_domain_refused_at_registration_is_refused_at_the_close_api(cast: Cast, raw: str) -> None:
    # given: a deal on acme.example, quoted and signed
    registration = approved(cast.gs, cast.admin_a, "acme.example")
    deal_id = deal_of(cast.gs, registration)
    quoted(cast.gs, deal_id, [PRO_MARKETING])
    # when / then: the same domain is refused at both, on the field that carries it
    registration_refusal = field_error(register(cast.admin_b, raw), "customer_domain")
    close_refusal = field_error(
        close(
            cast.gs,
            deal_id,
            close_date=timezone.localdate(),
            lines=[{"product_line": "marketing_hub"}],
            domain=raw,
        ),
        "purchase_domain",
    )
    assert close_refusal == registration_refusal
    assert Deal.objects.get(pk=deal_id).status == Deal.Status.OPEN


@pytest.mark.parametrize("raw", REFUSED)
def test_a_domain_refused_at_registration_is_refused_at_the_close_page(
    cast: Cast, raw: str
) -> None:
    mine = quoted_deal(cast, "acme.example")
    refused = browser_as(cast.admin_b).post(
        "/deals/", {"customer_domain": raw, "customer_name": "", "country": "GB", "segment": "smb"}
    )
    assert refused.status_code == 400
    assert "is not a" in refused.content.decode()
    assert "is not a" in _close_page(cast, mine.deal_id, raw)
    assert Deal.objects.get(pk=mine.deal_id).status == Deal.Status.OPEN
    assert not Registration.objects.filter(organisation=cast.org_b).exists()


def test_a_domain_accepted_at_both_names_the_same_customer(cast: Cast) -> None:
    # given: partner A registered the customer as a browser shows it
    registration = approved(cast.gs, cast.admin_a, "https://www.Acme.example/pricing")
    deal_id = deal_of(cast.gs, registration)
    quoted(cast.gs, deal_id, [PRO_MARKETING])
    # when: the GS closes on the same domain typed another way
    closed = ok(
        close(
            cast.gs,
            deal_id,
            close_date=timezone.localdate(),
            lines=[{"product_line": "marketing_hub"}],
            domain="ACME.example.",
        )
    )
    # then: both read acme.example, so A is on the purchase domain (no other_domain exclusion)
    assert closed["purchase_domain"] == "acme.example"
    assert closed["resolution"]["excluded"] == [
        {"registration": registration, "rule": "not_approved"}
    ]
