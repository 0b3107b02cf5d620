"""Bad input to the deal API: a 400 naming the field (`lines[0].currency`), and nothing written.

Each case runs against the same world: partner A's approved registration on acme.example with
a quote (v1) and its pending POI link. Every table the deal services write is counted before
and after, the audit trail included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from deals.tests.api_steps import snapshot
from tests.cast import Cast, api_as

from .api_steps import PRO_MARKETING, approved, deal_of, ok, poi_token, quoted, start_clock


@dataclass
class World:
    cast: Cast
    deal: int
    registration: int
    token: str
    inquiry: int


@pytest.fixture
def world(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> World:
    start_clock(monkeypatch)
    registration = approved(cast.gs, cast.admin_a)
    deal = deal_of(cast.gs, registration)
    quoted(cast.gs, deal, [PRO_MARKETING])
    inquiry = ok(
        api_as(cast.gs).post(
            f"/api/v1/registrations/{registration}/inquiries/", {"question": "Budget?"}
        ),
        201,
    )["id"]
    return World(cast, deal, registration, poi_token(cast.admin_a, registration), inquiry)


# Beyond what the columns hold (`numeric(14, 2)`, `integer`) or a ceiling for free text.
HUGE_MRR = 1e25  # a JSON number
HUGE_SEATS = 2**70
MEGABYTE = "x" * 1_000_000


@dataclass
class Bad:
    name: str
    who: str  # a cast member, or "anon"
    method: str
    url: Callable[[World], str]
    body: Any
    field: str  # the field the 400 must name
    extra: dict[str, Any] = field(default_factory=dict)


def line(**changes: Any) -> dict[str, Any]:
    """A valid quote line with some values changed (None removes the key)."""
    result = {**PRO_MARKETING, **changes}
    return {key: value for key, value in result.items() if value is not None}


def customer(**changes: Any) -> dict[str, Any]:
    result = {
        "customer_domain": "new.example",
        "customer_name": "New",
        "country": "GB",
        "segment": "smb",
        **changes,
    }
    return {key: value for key, value in result.items() if value is not None}


def closing(**changes: Any) -> dict[str, Any]:
    result = {
        "purchase_domain": "acme.example",
        "close_date": "2026-03-10",
        "lines": [{"product_line": "marketing_hub", "mrr": "800.00"}],
        **changes,
    }
    return {key: value for key, value in result.items() if value is not None}


def registrations(w: World) -> str:
    return "/api/v1/registrations/"


def quote(w: World) -> str:
    return f"/api/v1/deals/{w.deal}/quote/"


def close(w: World) -> str:
    return f"/api/v1/deals/{w.deal}/close/"


def close_preview(w: World) -> str:
    return f"/api/v1/deals/{w.deal}/close-preview/"


def decide(w: World) -> str:
    return f"/api/v1/deals/{w.deal}/decide/"


def invitations(w: World) -> str:
    return f"/api/v1/deals/{w.deal}/invitations/"


def poi_link(w: World) -> str:
    return f"/api/v1/poi/{w.token}/"


def manual(w: World) -> str:
    return f"/api/v1/registrations/{w.registration}/poi/"


def referrals(w: World) -> str:
    return f"/api/v1/registrations/{w.registration}/referrals/"


def ask(w: World) -> str:
    return f"/api/v1/registrations/{w.registration}/inquiries/"


def answer(w: World) -> str:
    return f"/api/v1/inquiries/{w.inquiry}/answer/"


def approval(w: World) -> str:
    return f"/api/v1/registrations/{w.registration}/approve/"


def acknowledge(w: World) -> str:
    return f"/api/v1/registrations/{w.registration}/acknowledge-secondary/"


CASES = [
    # Registrations (partner) and vendor-owned deals (GS): the customer
    *(
        Bad(
            f"register-domain-{i}",
            "admin_b",
            "post",
            registrations,
            customer(customer_domain=d),
            "customer_domain",
        )
        for i, d in enumerate(
            [
                "not a domain",
                "acme",
                "http://",
                "a..b.com",
                "-acme.com",
                "user@acme.com",
                "acme.123",
                "",
            ]
        )
    ),
    Bad(
        "register-no-domain",
        "admin_b",
        "post",
        registrations,
        customer(customer_domain=None),
        "customer_domain",
    ),
    Bad("register-country", "admin_b", "post", registrations, customer(country="ZZ"), "country"),
    Bad(
        "register-country-alpha3",
        "admin_b",
        "post",
        registrations,
        customer(country="GBR"),
        "country",
    ),
    Bad("register-segment", "admin_b", "post", registrations, customer(segment="huge"), "segment"),
    Bad(
        "deal-domain",
        "gs",
        "post",
        lambda w: "/api/v1/deals/",
        customer(customer_domain="acme"),
        "customer_domain",
    ),
    # Quotes (GS)
    Bad(
        "quote-unknown-product-line",
        "gs",
        "put",
        quote,
        {"lines": [line(product_line="marketing_suite")]},
        "lines[0].product_line",
    ),
    Bad(
        "quote-no-product-line",
        "gs",
        "put",
        quote,
        {"lines": [line(product_line=None)]},
        "lines[0].product_line",
    ),
    Bad(
        "quote-unknown-currency",
        "gs",
        "put",
        quote,
        {"lines": [line(currency="BTC")]},
        "lines[0].currency",
    ),
    Bad(
        "quote-second-line-currency",
        "gs",
        "put",
        quote,
        {"lines": [line(), line(product_line="sales_hub", currency="XXX")]},
        "lines[1].currency",
    ),
    Bad(
        "quote-no-currency",
        "gs",
        "put",
        quote,
        {"lines": [line(currency=None)]},
        "lines[0].currency",
    ),
    Bad("quote-negative-mrr", "gs", "put", quote, {"lines": [line(mrr="-1.00")]}, "lines[0].mrr"),
    Bad(
        "quote-mrr-not-a-number",
        "gs",
        "put",
        quote,
        {"lines": [line(mrr="800 USD")]},
        "lines[0].mrr",
    ),
    Bad("quote-mrr-nan", "gs", "put", quote, {"lines": [line(mrr="NaN")]}, "lines[0].mrr"),
    Bad(
        "quote-mrr-fractions-of-cents",
        "gs",
        "put",
        quote,
        {"lines": [line(mrr="800.001")]},
        "lines[0].mrr",
    ),
    Bad(
        "quote-edition-the-line-lacks",
        "gs",
        "put",
        quote,
        {"lines": [line(product_line="credits", edition="professional")]},
        "lines[0].edition",
    ),
    Bad(
        "quote-unknown-edition",
        "gs",
        "put",
        quote,
        {"lines": [line(edition="ultimate")]},
        "lines[0].edition",
    ),
    Bad(
        "quote-missing-edition",
        "gs",
        "put",
        quote,
        {"lines": [line(edition=None)]},
        "lines[0].edition",
    ),
    Bad("quote-negative-seats", "gs", "put", quote, {"lines": [line(seats=-2)]}, "lines[0].seats"),
    Bad(
        "quote-seats-not-a-number",
        "gs",
        "put",
        quote,
        {"lines": [line(seats="many")]},
        "lines[0].seats",
    ),
    Bad(
        "quote-discount-over-100",
        "gs",
        "put",
        quote,
        {"lines": [line(discount_pct="120", discount_approval="VP-1")]},
        "lines[0].discount_pct",
    ),
    Bad(
        "quote-line-twice",
        "gs",
        "put",
        quote,
        {"lines": [line(), line(mrr="10.00")]},
        "lines[1].product_line",
    ),
    Bad("quote-line-not-an-object", "gs", "put", quote, {"lines": [line(), 42]}, "lines[1]"),
    Bad("quote-lines-not-a-list", "gs", "put", quote, {"lines": "marketing_hub"}, "lines"),
    Bad("quote-lines-an-object", "gs", "put", quote, {"lines": line()}, "lines"),
    Bad("quote-no-lines", "gs", "put", quote, {}, "lines"),
    Bad(
        "quote-bad-expected-close-date",
        "gs",
        "put",
        quote,
        {"lines": [line()], "expected_close_date": "31/03/2026"},
        "expected_close_date",
    ),
    # Closing (GS)
    Bad(
        "close-line-not-on-quote",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "sales_hub", "mrr": "400.00"}]),
        "lines[0].product_line",
    ),
    Bad(
        "close-second-line-not-on-quote",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub"}, {"product_line": "content_hub"}]),
        "lines[1].product_line",
    ),
    Bad(
        "close-unknown-product-line",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "nope", "mrr": "1"}]),
        "lines[0].product_line",
    ),
    Bad(
        "close-negative-mrr",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "mrr": "-800"}]),
        "lines[0].mrr",
    ),
    Bad(
        "close-unknown-currency",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "currency": "ABC"}]),
        "lines[0].currency",
    ),
    Bad(
        "close-edition-the-line-lacks",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "edition": None}]),
        "lines[0].edition",
    ),
    Bad(
        "close-line-twice",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub"}, {"product_line": "marketing_hub"}]),
        "lines[1].product_line",
    ),
    Bad("close-lines-not-a-list", "gs", "post", close, closing(lines="marketing_hub"), "lines"),
    Bad("close-no-lines", "gs", "post", close, closing(lines=[]), "lines"),
    Bad(
        "close-line-not-an-object",
        "gs",
        "post",
        close,
        closing(lines=["marketing_hub"]),
        "lines[0]",
    ),
    Bad("close-bad-date", "gs", "post", close, closing(close_date="2026-13-01"), "close_date"),
    Bad(
        "close-date-not-a-date", "gs", "post", close, closing(close_date="yesterday"), "close_date"
    ),
    Bad("close-no-date", "gs", "post", close, closing(close_date=None), "close_date"),
    Bad("close-future-date", "gs", "post", close, closing(close_date="2026-03-11"), "close_date"),
    Bad(
        "close-purchase-domain",
        "gs",
        "post",
        close,
        closing(purchase_domain="acme"),
        "purchase_domain",
    ),
    Bad(
        "close-onboarding-partner-not-on-deal",
        "gs",
        "post",
        close,
        closing(onboarding_partner=0),
        "onboarding_partner",
    ),
    Bad(
        "close-onboarding-partner-not-an-id",
        "gs",
        "post",
        close,
        closing(onboarding_partner="alpha"),
        "onboarding_partner",
    ),
    # Ops decision, invitations, POI links, manual POIs, referrals
    Bad("decide-no-reason", "ops", "post", decide, {"registration": 1}, "reason"),
    Bad(
        "decide-registration-not-an-id",
        "ops",
        "post",
        decide,
        {"registration": "alpha", "reason": "x"},
        "registration",
    ),
    Bad("invite-partner-not-an-id", "gs", "post", invitations, {"partner": "bravo"}, "partner"),
    Bad("invite-unknown-partner", "gs", "post", invitations, {"partner": 987654}, "partner"),
    Bad("poi-bad-decision", "anon", "post", poi_link, {"decision": "maybe"}, "decision"),
    Bad("poi-no-decision", "anon", "post", poi_link, {}, "decision"),
    Bad(
        "manual-poi-lines-not-a-list",
        "admin_a",
        "post",
        manual,
        {"lines": "marketing_hub", "provides_onboarding": False},
        "lines",
    ),
    Bad(
        "manual-poi-bad-onboarding",
        "admin_a",
        "post",
        manual,
        {"lines": ["marketing_hub"], "provides_onboarding": "perhaps"},
        "provides_onboarding",
    ),
    Bad("referral-no-partner", "admin_a", "post", referrals, {}, "partner"),
    # An unknown partner is no bad input: a referral answers alike whatever it names
    # (test_api_hardening.py).
    Bad(
        "referral-partner-beyond-an-id", "admin_a", "post", referrals, {"partner": 2**70}, "partner"
    ),
    # Numbers beyond what the database holds, and free text beyond its ceiling (issue 9):
    # a 400 naming the field, never a 500 from the database.
    Bad("quote-mrr-1e25", "gs", "put", quote, {"lines": [line(mrr=HUGE_MRR)]}, "lines[0].mrr"),
    Bad(
        "quote-mrr-1e25-as-text",
        "gs",
        "put",
        quote,
        {"lines": [line(mrr="1e25")]},
        "lines[0].mrr",
    ),
    Bad(
        "quote-seats-2**70",
        "gs",
        "put",
        quote,
        {"lines": [line(seats=HUGE_SEATS)]},
        "lines[0].seats",
    ),
    Bad("quote-seats-2**63", "gs", "put", quote, {"lines": [line(seats=2**63)]}, "lines[0].seats"),
    Bad("quote-seats-2.5", "gs", "put", quote, {"lines": [line(seats=2.5)]}, "lines[0].seats"),
    Bad(
        "quote-discount-approval-1MB",
        "gs",
        "put",
        quote,
        {"lines": [line(discount_pct="5", discount_approval=MEGABYTE)]},
        "lines[0].discount_approval",
    ),
    Bad(
        "close-mrr-1e25",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "mrr": HUGE_MRR}]),
        "lines[0].mrr",
    ),
    Bad(
        "close-seats-2**70",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "seats": HUGE_SEATS}]),
        "lines[0].seats",
    ),
    Bad(
        "close-seats-2**63",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "seats": 2**63}]),
        "lines[0].seats",
    ),
    Bad(
        "close-seats-2.5",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "seats": 2.5}]),
        "lines[0].seats",
    ),
    Bad(
        "close-purchase-domain-1MB",
        "gs",
        "post",
        close,
        closing(purchase_domain=MEGABYTE),
        "purchase_domain",
    ),
    Bad(
        "register-customer-name-1MB",
        "admin_b",
        "post",
        registrations,
        customer(customer_name=MEGABYTE),
        "customer_name",
    ),
    Bad(
        "deal-customer-name-1MB",
        "gs",
        "post",
        lambda w: "/api/v1/deals/",
        customer(customer_name=MEGABYTE),
        "customer_name",
    ),
    Bad("inquiry-question-1MB", "gs", "post", ask, {"question": MEGABYTE}, "question"),
    Bad("inquiry-answer-1MB", "admin_a", "post", answer, {"answer": MEGABYTE}, "answer"),
    Bad(
        "tie-reason-1MB",
        "ops",
        "post",
        decide,
        {"registration": 1, "reason": MEGABYTE},
        "reason",
    ),
    Bad("approval-note-1MB", "gs", "post", approval, {"note": MEGABYTE}, "note"),
    # Issue 10: plausible dates, a deliberate close, whole seat counts.
    Bad("close-2019", "gs", "post", close, closing(close_date="2019-06-30"), "close_date"),
    Bad("close-0001-01-01", "gs", "post", close, closing(close_date="0001-01-01"), "close_date"),
    Bad(
        "close-preview-2019",
        "gs",
        "post",
        close_preview,
        closing(close_date="2019-06-30"),
        "close_date",
    ),
    Bad(
        "close-foreign-domain-without-reason",
        "gs",
        "post",
        close,
        closing(purchase_domain="unrelated.example"),
        "purchase_domain",
    ),
    Bad(
        "close-mismatch-reason-1MB",
        "gs",
        "post",
        close,
        closing(purchase_domain="unrelated.example", domain_mismatch_reason=MEGABYTE),
        "domain_mismatch_reason",
    ),
    Bad(
        "quote-expected-close-9999-12-31",
        "gs",
        "put",
        quote,
        {"lines": [line()], "expected_close_date": "9999-12-31"},
        "expected_close_date",
    ),
    Bad("quote-seats-1.5", "gs", "put", quote, {"lines": [line(seats=1.5)]}, "lines[0].seats"),
    Bad(
        "close-seats-1.5",
        "gs",
        "post",
        close,
        closing(lines=[{"product_line": "marketing_hub", "seats": 1.5}]),
        "lines[0].seats",
    ),
    Bad(
        "acknowledgement-1MB",
        "admin_a",
        "post",
        acknowledge,
        {"statement": MEGABYTE},
        "statement",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(world: World, case: Bad) -> None:
    user = None if case.who == "anon" else world.cast.people()[case.who]
    client = api_as(user)
    before = snapshot()
    response = getattr(client, case.method)(case.url(world), case.body, format="json")
    assert response.status_code == 400, (response.status_code, response.content[:400])
    body = response.json()
    assert case.field in body, body
    assert all(isinstance(m, str) and m for m in body[case.field]), body
    assert snapshot() == before


def test_every_case_of_the_issue_is_covered() -> None:
    """Issue 3's and issue 9's lists of bad input, each with at least one case here."""
    names = {case.name for case in CASES}
    for required in (
        "register-domain-0",
        "quote-unknown-product-line",
        "quote-unknown-currency",
        "quote-negative-mrr",
        "quote-edition-the-line-lacks",
        "quote-missing-edition",
        "close-line-not-on-quote",
        "close-bad-date",
        "poi-bad-decision",
        "quote-lines-not-a-list",
        # issue 9
        "quote-mrr-1e25",
        "quote-seats-2**70",
        "quote-seats-2.5",
        "inquiry-question-1MB",
        "inquiry-answer-1MB",
        "tie-reason-1MB",
        "register-customer-name-1MB",
        # issue 10
        "close-2019",
        "close-0001-01-01",
        "close-foreign-domain-without-reason",
        "quote-expected-close-9999-12-31",
        "quote-seats-1.5",
    ):
        assert required in names


def test_a_bad_line_after_good_ones_leaves_the_quote_and_its_pois_as_they_were(
    world: World,
) -> None:
    cast = world.cast
    before = snapshot()
    response = api_as(cast.gs).put(
        f"/api/v1/deals/{world.deal}/quote/",
        {"lines": [line(mrr="900.00"), line(product_line="sales_hub", mrr="-5")]},
        format="json",
    )
    assert response.status_code == 400
    assert "lines[1].mrr" in response.json()
    assert snapshot() == before
    # the link sent to the customer still works
    assert api_as(None).post(
        f"/api/v1/poi/{world.token}/", {"decision": "approve"}
    ).status_code == (200)
