"""Races on one deal, on real PostgreSQL: requests started together from threads, each with its
own database connection, against committed data. Whatever the interleaving, the outcome is
one of the serial ones: one decision per link, one close and one winner per deal, never a
close on a stale quote, one deal per customer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.response import Response

from deals import services
from deals.inputs import PoiDecision
from deals.models import (
    Deal,
    Inquiry,
    Poi,
    PurchasedLine,
    QuoteVersion,
    Registration,
    SoldAssociation,
)
from deals.services import staff as quotes  # the module of quote_save, where it finds `audit`
from partnerportal.core.models import AuditEvent, Customer
from tests.cast import Cast, api_as

from .api_steps import PRO_MARKETING, PRO_SALES, line_input

pytestmark = pytest.mark.usefixtures("committed_db")


def together(*actions: Callable[[], Response]) -> list[Response]:
    """Run the actions at the same instant, each in its own thread and database connection;
    return their responses in the order given."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Response]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except BaseException as exc:  # reported below, in the test's thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _approved_with_quote(cast: Cast, domain: str = "race.example") -> Registration:
    registration = services.registration_create(
        actor=cast.admin_a,
        customer_domain=domain,
        customer_name="Race",
        country="GB",
        segment="smb",
    )
    registration = services.registration_decide(
        actor=cast.gs, registration=registration, approve=True
    )
    services.quote_save(actor=cast.gs, deal=registration.deal, lines=[line_input(PRO_MARKETING)])
    return registration


def _token(registration: Registration) -> str:
    return services.poi_token(Poi.objects.get(registration=registration, status=Poi.Status.PENDING))


def _signed(cast: Cast) -> Registration:
    registration = _approved_with_quote(cast)
    services.poi_decide(token=_token(registration), decision=PoiDecision.APPROVE)
    return registration


def _close(cast: Cast, deal_id: int, lines: list[dict[str, Any]]) -> Callable[[], Response]:
    body = {
        "purchase_domain": "race.example",
        "close_date": timezone.localdate().isoformat(),
        "lines": lines,
    }
    return lambda: api_as(cast.gs).post(f"/api/v1/deals/{deal_id}/close/", body, format="json")


def test_two_decisions_on_one_poi_link(cast: Cast) -> None:
    # given
    registration = _approved_with_quote(cast)
    url = f"/api/v1/poi/{_token(registration)}/"
    # when: the customer clicks approve in one tab and reject in another
    approve, reject = together(
        lambda: api_as(None).post(url, {"decision": "approve"}, format="json"),
        lambda: api_as(None).post(url, {"decision": "reject"}, format="json"),
    )
    # then: exactly one decision stands; the other is told the link was used
    assert sorted([approve.status_code, reject.status_code]) == [200, 410]
    loser = reject if approve.status_code == 200 else approve
    assert loser.json()["reason"] == "used"
    winner = approve if approve.status_code == 200 else reject
    poi = Poi.objects.get(registration=registration)
    assert poi.status == winner.json()["status"]
    decided = AuditEvent.objects.filter(verb__in=["deals.poi.approved", "deals.poi.rejected"])
    assert decided.count() == 1


def test_two_closes_of_one_deal(cast: Cast) -> None:
    # given: a deal A can win, on two lines
    registration = _approved_with_quote(cast)
    services.quote_save(
        actor=cast.gs,
        deal=registration.deal,
        lines=[line_input(PRO_MARKETING), line_input(PRO_SALES)],
    )
    services.poi_decide(token=_token(registration), decision=PoiDecision.APPROVE)
    lines = [{"product_line": "marketing_hub"}, {"product_line": "sales_hub"}]
    # when: the GS double-submits the close
    first, second = together(
        _close(cast, registration.deal_id, lines), _close(cast, registration.deal_id, lines)
    )
    # then: one close, one winner, each association once
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    deal = Deal.objects.get(pk=registration.deal_id)
    assert (deal.status, deal.winner_id) == ("won", registration.pk)
    assert PurchasedLine.objects.filter(deal=deal).count() == 2
    assert sorted(
        SoldAssociation.objects.filter(customer=deal.customer).values_list(
            "organisation_id", "product_line_id"
        )
    ) == [(cast.org_a.pk, "marketing_hub"), (cast.org_a.pk, "sales_hub")]
    assert AuditEvent.objects.filter(verb="deals.deal.closed").count() == 1
    assert AuditEvent.objects.filter(verb="deals.associations.granted").count() == 1


def test_a_close_racing_a_quote_update_is_serial(cast: Cast) -> None:
    # given: A signed quote v1 (Marketing Hub at 800)
    registration = _signed(cast)
    deal_id = registration.deal_id
    update = {"lines": [{**PRO_MARKETING, "mrr": "900.00"}]}
    # when: the GS updates the quote to 900 while closing at the quote's price
    quote, closing = together(
        lambda: api_as(cast.gs).put(f"/api/v1/deals/{deal_id}/quote/", update, format="json"),
        _close(cast, deal_id, [{"product_line": "marketing_hub"}]),
    )
    # then: the outcome is one of the two serial orders
    assert closing.status_code == 200, closing.content
    deal = Deal.objects.get(pk=deal_id)
    [purchased] = PurchasedLine.objects.filter(deal=deal)
    versions = list(QuoteVersion.objects.filter(deal=deal).order_by("number"))
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    if quote.status_code == 200:
        # the update first: the close bought v2, on which A's signature is void
        assert [v.number for v in versions] == [1, 2]
        assert purchased.mrr == 900
        assert (deal.resolution_rule, deal.winner_id) == ("no_candidate", None)
        assert Poi.objects.get(registration=registration, status="voided").quote.number == 1
    else:
        # the close first: the update is refused, nothing of it was written
        assert quote.status_code == 409, quote.content
        assert [v.number for v in versions] == [1]
        assert purchased.mrr == 800
        assert (deal.resolution_rule, deal.winner_id) == ("single_candidate", registration.pk)
    # never a close on a stale quote, never two live POIs for one registration
    assert purchased.mrr == versions[-1].lines.get().mrr
    assert (
        Poi.objects.filter(registration=registration, status__in=["pending", "approved"]).count()
        <= 1
    )


def _register(user: Any, domain: str) -> Callable[[], Response]:
    body = {"customer_domain": domain, "customer_name": "New", "country": "GB", "segment": "smb"}
    return lambda: api_as(user).post("/api/v1/registrations/", body, format="json")


def test_two_registrations_by_one_partner_on_a_new_domain(cast: Cast) -> None:
    # when: two people of partner A register the same new domain at once
    first, second = together(
        _register(cast.admin_a, "brand-new.example"), _register(cast.member_a, "brand-new.example")
    )
    # then: one is registered, the other refused as a duplicate; one customer, one deal
    assert sorted([first.status_code, second.status_code]) == [201, 400]
    refused = first if first.status_code == 400 else second
    assert refused.json()["rule"] == ["duplicate_registration"]
    assert "customer_domain" in refused.json()
    assert Customer.objects.filter(domain="brand-new.example").count() == 1
    assert Deal.objects.count() == 1
    assert Registration.objects.count() == 1


def test_two_partners_register_a_new_domain_at_once(cast: Cast) -> None:
    # when: partners A and B register the same new domain at once
    first, second = together(
        _register(cast.admin_a, "brand-new.example"), _register(cast.admin_b, "brand-new.example")
    )
    # then: both accepted alike, on one deal
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["status"] == second.json()["status"] == "pending_approval"
    [deal] = Deal.objects.all()
    assert sorted(deal.registrations.values_list("organisation_id", flat=True)) == sorted(
        [cast.org_a.pk, cast.org_b.pk]
    )
    assert AuditEvent.objects.filter(verb="core.customer.created").count() == 1


def test_two_partners_register_two_new_domains_of_one_country_at_once(cast: Cast) -> None:
    # when: unrelated registrations, whose customers share only their country
    first, second = together(
        _register(cast.admin_a, "alpha-new.example"), _register(cast.admin_b, "bravo-new.example")
    )
    # then: both accepted, each on its own deal
    assert (first.status_code, second.status_code) == (201, 201)
    assert Deal.objects.count() == 2


def test_an_inquiry_racing_a_quote_update(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: A is on the deal with a pending POI; the quote update, once it holds the deal,
    # pauses before it reaches the POIs, and the inquiry starts in that pause
    registration = _approved_with_quote(cast)
    deal_id = registration.deal_id
    deal_locked = threading.Event()
    real_audit = quotes.audit

    def audit_then_pause(**kwargs: Any) -> Any:
        event = real_audit(**kwargs)
        if kwargs["verb"] == "deals.quote.saved":
            deal_locked.set()
            time.sleep(0.3)  # the inquiry takes its locks now
        return event

    monkeypatch.setattr(quotes, "audit", audit_then_pause)
    update = {"lines": [{**PRO_MARKETING, "mrr": "900.00"}]}

    def ask() -> Response:
        assert deal_locked.wait(timeout=5)
        return api_as(cast.gs).post(
            f"/api/v1/registrations/{registration.pk}/inquiries/", {"question": "Budget?"}
        )

    # when: the GS asks A a question while another tab saves the quote
    quote, inquiry = together(
        lambda: api_as(cast.gs).put(f"/api/v1/deals/{deal_id}/quote/", update, format="json"),
        ask,
    )
    # then: both succeed, one after the other
    assert (quote.status_code, inquiry.status_code) == (200, 201)
    assert Inquiry.objects.filter(registration=registration).count() == 1
    assert QuoteVersion.objects.filter(deal_id=deal_id).count() == 2
