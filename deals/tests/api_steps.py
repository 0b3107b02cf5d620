"""Steps of the deal journey through the API (SPEC 11), shared by the deal API tests.

Each step asserts the status it expects and returns the parsed body, so a scenario reads as
the journey it walks. Time moves with `Clock`, which replaces `django.utils.timezone.now`
(the process clock the services read) for the rest of the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.response import Response

from deals.inputs import ClosedLineInput, QuoteLineInput
from deals.models import (
    Deal,
    Inquiry,
    Poi,
    PurchasedLine,
    QuoteLine,
    QuoteVersion,
    Referral,
    Registration,
    SoldAssociation,
)
from partnerportal.core.models import AuditEvent, Customer, User
from tests.cast import api_as

PRO_MARKETING = {
    "product_line": "marketing_hub",
    "edition": "professional",
    "mrr": "800.00",
    "currency": "USD",
    "seats": 3,
}
PRO_SALES = {
    "product_line": "sales_hub",
    "edition": "professional",
    "mrr": "400.00",
    "currency": "USD",
}
STARTER_SALES = {
    "product_line": "sales_hub",
    "edition": "starter",
    "mrr": "50.00",
    "currency": "USD",
}
CREDITS = {"product_line": "credits", "mrr": "100.00", "currency": "USD"}


def line_input(line: dict[str, Any]) -> QuoteLineInput:
    """A quote line of these steps as the services take it (the API parses it so)."""
    return QuoteLineInput(
        product_line=line["product_line"],
        edition=line.get("edition"),
        mrr=Decimal(line["mrr"]),
        currency=line["currency"],
        seats=line.get("seats", 1),
    )


def bought(*product_lines: str) -> list[ClosedLineInput]:
    """Purchased lines as the services take them, each as quoted."""
    return [ClosedLineInput(product_line=code) for code in product_lines]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Clock:
    """The process clock, moved by the test (`django.utils.timezone.now`)."""

    monkeypatch: pytest.MonkeyPatch
    moment: datetime

    def set(self, moment: datetime | str) -> datetime:
        self.moment = utc(moment) if isinstance(moment, str) else moment
        value = self.moment
        self.monkeypatch.setattr(timezone, "now", lambda: value)
        return value

    def advance(self, delta: timedelta) -> datetime:
        return self.set(self.moment + delta)

    def today(self) -> date:
        return self.moment.date()


def start_clock(monkeypatch: pytest.MonkeyPatch, at: str = "2026-03-10T10:00:00") -> Clock:
    """A clock fixed at `at` (UTC; by default a Tuesday) until the test moves it."""
    fixed = Clock(monkeypatch=monkeypatch, moment=utc(at))
    fixed.set(fixed.moment)
    return fixed


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def register(
    user: User, domain: str = "acme.example", *, country: str = "GB", segment: str = "smb"
) -> Response:
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


def registered(user: User, domain: str = "acme.example", **kwargs: str) -> int:
    """Register and return the registration id."""
    return int(ok(register(user, domain, **kwargs), 201)["id"])


def deal_of(staff: User, registration_id: int) -> int:
    """The deal a registration sits on, as staff see it."""
    return int(ok(api_as(staff).get(f"/api/v1/registrations/{registration_id}/"))["deal"])


def approve(gs: User, registration_id: int) -> Any:
    return ok(api_as(gs).post(f"/api/v1/registrations/{registration_id}/approve/"))


def approved(gs: User, partner: User, domain: str = "acme.example") -> int:
    """A partner's registration, approved by the GS."""
    registration_id = registered(partner, domain)
    approve(gs, registration_id)
    return registration_id


def put_quote(gs: User, deal_id: int, lines: Sequence[dict[str, Any]], **extra: Any) -> Response:
    return api_as(gs).put(
        f"/api/v1/deals/{deal_id}/quote/", {"lines": list(lines), **extra}, format="json"
    )


def quoted(gs: User, deal_id: int, lines: Sequence[dict[str, Any]], **extra: Any) -> Any:
    return ok(put_quote(gs, deal_id, lines, **extra))


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def poi(user: User, registration_id: int) -> Any:
    return ok(api_as(user).get(f"/api/v1/registrations/{registration_id}/poi/"))


def poi_token(user: User, registration_id: int) -> str:
    """The token of the registration's current POI link (it must be pending)."""
    url = poi(user, registration_id)["url"]
    assert url, "the current POI is not pending"
    return token_of(url)


def answer_poi(token: str, decision: str = "approve") -> Response:
    return api_as(None).post(f"/api/v1/poi/{token}/", {"decision": decision}, format="json")


def sign(user: User, registration_id: int, decision: str = "approve") -> Any:
    """The customer answers the registration's current POI link."""
    return ok(answer_poi(poi_token(user, registration_id), decision))


def manual_poi(
    user: User, registration_id: int, lines: Sequence[str], *, onboarding: bool = False
) -> Response:
    return api_as(user).post(
        f"/api/v1/registrations/{registration_id}/poi/",
        {"lines": list(lines), "provides_onboarding": onboarding},
        format="json",
    )


def close(
    gs: User,
    deal_id: int,
    *,
    close_date: date | str,
    lines: Sequence[dict[str, Any]],
    domain: str = "acme.example",
    onboarding_partner: int | None = None,
    domain_mismatch_reason: str | None = None,
    preview: bool = False,
) -> Response:
    """Close the deal (or, with `preview`, ask what the close would record)."""
    body: dict[str, Any] = {
        "purchase_domain": domain,
        "close_date": str(close_date),
        "lines": list(lines),
    }
    if onboarding_partner is not None:
        body["onboarding_partner"] = onboarding_partner
    if domain_mismatch_reason is not None:
        body["domain_mismatch_reason"] = domain_mismatch_reason
    action = "close-preview" if preview else "close"
    return api_as(gs).post(f"/api/v1/deals/{deal_id}/{action}/", body, format="json")


def purchased(*codes_and_mrr: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"product_line": code, "mrr": mrr} for code, mrr in codes_and_mrr]


def subscribe(
    ops: User,
    domain: str,
    product_line: str,
    edition: str | None,
    *,
    mrr: str = "100.00",
    effective_from: str = "2025-01-01",
) -> None:
    """The billing feed: the customer already holds a line (SPEC 11 subscription changes)."""
    ok(
        api_as(ops).post(
            "/api/v1/subscription-changes/",
            {
                "customer_domain": domain,
                "customer_name": "Acme",
                "country": "GB",
                "segment": "smb",
                "product_line": product_line,
                "edition": edition,
                "mrr": mrr,
                "currency": "USD",
                "seats": 1,
                "effective_from": effective_from,
            },
            format="json",
        ),
        201,
    )


def field_error(response: Response, field: str, rule: str | None = None) -> list[str]:
    """Assert a 400 naming `field` (and the rule, when given); return the field's messages."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert field in body, body
    if rule is not None:
        assert body.get("rule") == [rule], body
    return list(body[field])


# Every table the deal services write.
WRITTEN: tuple[Any, ...] = (
    Customer,
    Deal,
    Registration,
    Referral,
    QuoteVersion,
    QuoteLine,
    Poi,
    PurchasedLine,
    SoldAssociation,
    Inquiry,
    AuditEvent,
)


def snapshot() -> dict[str, Any]:
    """Every row the deal services write, as values: a count alone misses an update."""
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in WRITTEN}
