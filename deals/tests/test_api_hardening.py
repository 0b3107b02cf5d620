"""Issue 10 on the deal API: no enumeration (a referral answers the same whatever partner it
names), plausible dates (a close between the deal's opening and today, an expected close date
within the horizon), deliberate closes (a purchase domain registered on the deal or a recorded
reason; a dry run that writes nothing and equals the close), and the tie told truthfully to
the partners on the deal.

The clock is fixed (`start_clock`, 10 March 2026, a Tuesday): the deal opens that day."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from deals.models import (
    Deal,
    QuoteLine,
    Referral,
    Registration,
)
from deals.tests.api_steps import snapshot
from partnerportal.core.models import AuditEvent, Organisation
from tests.cast import Cast, api_as
from tests.factories import OrganisationFactory

from .api_steps import (
    PRO_MARKETING,
    PRO_SALES,
    Clock,
    approved,
    close,
    deal_of,
    field_error,
    ok,
    purchased,
    put_quote,
    quoted,
    sign,
    start_clock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return start_clock(monkeypatch)


def refer(cast: Cast, registration: int, partner: int) -> Any:
    return api_as(cast.admin_a).post(
        f"/api/v1/registrations/{registration}/referrals/", {"partner": partner}, format="json"
    )


# --- No enumeration: a referral answers alike whatever partner it names ---------------------


def test_referral_answers_alike_for_listed_unlisted_unknown_and_already_on_the_deal(
    cast: Cast, clock: Clock
) -> None:
    # given: A's approved sourcing registration; B is already on the deal with its own
    source = approved(cast.gs, cast.admin_a)
    approved(cast.gs, cast.admin_b)
    listed = OrganisationFactory(name="Delta Digital")
    suspended = OrganisationFactory(name="Echo Agency", standing=Organisation.Standing.SUSPENDED)
    unknown = max(Organisation.objects.values_list("pk", flat=True)) + 1000
    # when: A refers each of them
    answers = {
        "listed": refer(cast, source, listed.pk),
        "on the deal": refer(cast, source, cast.org_b.pk),
        "unlisted": refer(cast, source, suspended.pk),
        "unknown": refer(cast, source, unknown),
    }
    # then: one status and one body, the sourcing registration, whoever was named
    assert {who: r.status_code for who, r in answers.items()} == dict.fromkeys(answers, 201)
    bodies = [r.json() for r in answers.values()]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["id"] == source
    # only the listed partners are referred; the other ids are in the audit trail, nothing else
    assert set(
        Referral.objects.filter(registration_id=source).values_list("organisation", flat=True)
    ) == {listed.pk, cast.org_b.pk}
    assert Registration.objects.filter(organisation=listed, status="referred").count() == 1
    assert not Registration.objects.filter(organisation=suspended).exists()
    unmatched = AuditEvent.objects.filter(verb="deals.registration.referral_unmatched")
    assert sorted(e.data["partner"] for e in unmatched) == sorted([suspended.pk, unknown])


def test_referral_of_a_partner_already_on_the_deal_changes_nothing_it_can_see(
    cast: Cast, clock: Clock
) -> None:
    """Referring twice, or referring a partner already on the deal, answers as the first time
    and tells the sourcing partner nothing of the other's registration."""
    source = approved(cast.gs, cast.admin_a)
    first = refer(cast, source, cast.org_b.pk)
    again = refer(cast, source, cast.org_b.pk)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert Registration.objects.filter(organisation=cast.org_b).count() == 1


def test_referral_of_itself_is_refused(cast: Cast, clock: Clock) -> None:
    source = approved(cast.gs, cast.admin_a)
    field_error(refer(cast, source, cast.org_a.pk), "partner")


def test_invitation_refuses_an_unknown_partner_as_one_out_of_sight(
    cast: Cast, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GS sees every partner (`GET /partners/` lists them), so an invitation may say that an
    id names no partner; the lookup goes through what the caller sees, so a partner out of
    its sight gets the very same answer as an id that names nobody."""
    from deals.services import _common

    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    unknown = max(Organisation.objects.values_list("pk", flat=True)) + 1000
    seen = _common.visible_organisations
    monkeypatch.setattr(
        _common, "visible_organisations", lambda user: seen(user).exclude(pk=cast.org_b.pk)
    )
    client = api_as(cast.gs)
    out_of_sight = client.post(
        f"/api/v1/deals/{deal}/invitations/", {"partner": cast.org_b.pk}, format="json"
    )
    nobody = client.post(f"/api/v1/deals/{deal}/invitations/", {"partner": unknown}, format="json")
    assert (out_of_sight.status_code, nobody.status_code) == (400, 400)
    assert out_of_sight.json() == nobody.json() == {"partner": ["No such partner."]}


def test_registration_on_a_domain_another_partner_registered_answers_as_a_new_one(
    cast: Cast, clock: Clock
) -> None:
    first = api_as(cast.admin_b).post(
        "/api/v1/registrations/",
        {"customer_domain": "shared.example", "country": "GB", "segment": "smb"},
        format="json",
    )
    lone = api_as(cast.admin_a).post(
        "/api/v1/registrations/",
        {"customer_domain": "lone.example", "country": "GB", "segment": "smb"},
        format="json",
    )
    joined = api_as(cast.admin_a).post(
        "/api/v1/registrations/",
        {"customer_domain": "shared.example", "country": "GB", "segment": "smb"},
        format="json",
    )
    assert (first.status_code, lone.status_code, joined.status_code) == (201, 201, 201)
    assert set(lone.json()) == set(joined.json())
    different = {k for k in lone.json() if lone.json()[k] != joined.json()[k]}
    assert different == {"id", "customer_domain"}


# --- Plausible dates -------------------------------------------------------------------------


def test_close_date_before_the_deal_opened_is_refused(cast: Cast, clock: Clock) -> None:
    """The 2019 close: a sale dated years before the deal opened is refused, nothing written."""
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    quoted(cast.gs, deal, [PRO_MARKETING])
    before = snapshot()
    refused = close(
        cast.gs, deal, close_date="2019-06-30", lines=purchased(("marketing_hub", "800"))
    )
    assert field_error(refused, "close_date", "close_date_before_opening")
    assert "before the deal opened on 10 Mar 2026" in refused.json()["close_date"][0]
    assert snapshot() == before
    # the day the deal opened is fine
    assert (
        ok(
            close(cast.gs, deal, close_date="2026-03-10", lines=purchased(("marketing_hub", "800")))
        )["status"]
        == "won"
    )


def test_close_date_in_the_future_is_refused(cast: Cast, clock: Clock) -> None:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    quoted(cast.gs, deal, [PRO_MARKETING])
    refused = close(
        cast.gs, deal, close_date="2026-03-11", lines=purchased(("marketing_hub", "800"))
    )
    field_error(refused, "close_date", "close_date_in_future")


def test_expected_close_date_beyond_the_horizon_is_refused(cast: Cast, clock: Clock) -> None:
    """By default two years (730 days) ahead: 10 March 2026 + 730 days = 9 March 2028."""
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    far = put_quote(cast.gs, deal, [PRO_MARKETING], expected_close_date="9999-12-31")
    assert (
        "9 Mar 2028" in field_error(far, "expected_close_date", "expected_close_beyond_horizon")[0]
    )
    just_after = put_quote(cast.gs, deal, [PRO_MARKETING], expected_close_date="2028-03-10")
    field_error(just_after, "expected_close_date", "expected_close_beyond_horizon")
    past = put_quote(cast.gs, deal, [PRO_MARKETING], expected_close_date="2026-03-09")
    field_error(past, "expected_close_date", "expected_close_in_past")
    assert quoted(cast.gs, deal, [PRO_MARKETING], expected_close_date="2028-03-09")["version"] == 1
    assert str(Deal.objects.get(pk=deal).expected_close_date) == "2028-03-09"


@override_settings(PORTAL_EXPECTED_CLOSE_HORIZON_DAYS=30)
def test_expected_close_horizon_is_a_setting(cast: Cast, clock: Clock) -> None:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    refused = put_quote(cast.gs, deal, [PRO_MARKETING], expected_close_date="2026-04-10")
    field_error(refused, "expected_close_date", "expected_close_beyond_horizon")
    assert quoted(cast.gs, deal, [PRO_MARKETING], expected_close_date="2026-04-09")["version"] == 1


@pytest.mark.parametrize("seats", [1.5, "1.5"])
def test_seats_are_whole_numbers_on_quote_and_close(cast: Cast, clock: Clock, seats: Any) -> None:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    field_error(put_quote(cast.gs, deal, [{**PRO_MARKETING, "seats": seats}]), "lines[0].seats")
    quoted(cast.gs, deal, [PRO_MARKETING])
    bought = [{"product_line": "marketing_hub", "seats": seats}]
    field_error(close(cast.gs, deal, close_date="2026-03-10", lines=bought), "lines[0].seats")
    assert QuoteLine.objects.get().seats == 3


# --- Deliberate closes: the purchase domain --------------------------------------------------


def test_foreign_purchase_domain_needs_a_reason_and_the_reason_is_audited(
    cast: Cast, clock: Clock
) -> None:
    registration = approved(cast.gs, cast.admin_a)
    deal = deal_of(cast.gs, registration)
    quoted(cast.gs, deal, [PRO_MARKETING])
    sign(cast.admin_a, registration)
    bought = purchased(("marketing_hub", "800"))
    before = snapshot()
    # without a reason: a 400 naming the purchase domain and the field to give the reason in
    refused = close(
        cast.gs, deal, close_date="2026-03-10", domain="unrelated.example", lines=bought
    )
    messages = field_error(refused, "purchase_domain", "purchase_domain_not_registered")
    assert "unrelated.example is not a domain registered on this deal (acme.example)" in messages[0]
    assert "domain_mismatch_reason" in refused.json()
    assert snapshot() == before
    # a blank reason is no reason
    blank = close(
        cast.gs,
        deal,
        close_date="2026-03-10",
        domain="unrelated.example",
        lines=bought,
        domain_mismatch_reason="   ",
    )
    field_error(blank, "purchase_domain", "purchase_domain_not_registered")
    # with the reason: closed, and the audit row of the close records it
    reason = "The customer bought through its holding company's domain."
    won = ok(
        close(
            cast.gs,
            deal,
            close_date="2026-03-10",
            domain="unrelated.example",
            lines=bought,
            domain_mismatch_reason=reason,
        )
    )
    assert (won["status"], won["purchase_domain"]) == ("won", "unrelated.example")
    # A registered on acme.example: not a candidate for a purchase on another domain
    assert won["resolution"]["rule"] == "no_candidate"
    event = AuditEvent.objects.get(verb="deals.deal.closed")
    assert event.actor == cast.gs
    assert event.data["domain_registered"] is False
    assert event.data["domain_mismatch_reason"] == reason


def test_registered_purchase_domain_needs_no_reason_in_any_spelling(
    cast: Cast, clock: Clock
) -> None:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    quoted(cast.gs, deal, [PRO_MARKETING])
    won = ok(
        close(
            cast.gs,
            deal,
            close_date="2026-03-10",
            domain="https://www.ACME.example/",
            lines=purchased(("marketing_hub", "800")),
        )
    )
    assert won["purchase_domain"] == "acme.example"
    event = AuditEvent.objects.get(verb="deals.deal.closed")
    assert event.data["domain_registered"] is True
    assert "domain_mismatch_reason" not in event.data


def test_a_megabyte_mismatch_reason_is_a_400(cast: Cast, clock: Clock) -> None:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    quoted(cast.gs, deal, [PRO_MARKETING])
    before = snapshot()
    refused = close(
        cast.gs,
        deal,
        close_date="2026-03-10",
        domain="other.example",
        lines=purchased(("marketing_hub", "800")),
        domain_mismatch_reason="x" * 1_000_000,
    )
    field_error(refused, "domain_mismatch_reason")
    assert snapshot() == before


# --- Deliberate closes: the dry run ----------------------------------------------------------


def _tie(cast: Cast) -> int:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    registration_b = approved(cast.gs, cast.admin_b)
    quoted(cast.gs, deal, [PRO_MARKETING])
    sign(cast.admin_a, Registration.objects.get(organisation=cast.org_a).pk)
    sign(cast.admin_b, registration_b)
    return deal


def _single(cast: Cast) -> int:
    registration = approved(cast.gs, cast.admin_a)
    approved(cast.gs, cast.admin_b)
    deal = deal_of(cast.gs, registration)
    quoted(cast.gs, deal, [PRO_MARKETING, PRO_SALES])
    sign(cast.admin_a, registration)
    return deal


def _nobody(cast: Cast) -> int:
    deal = deal_of(cast.gs, approved(cast.gs, cast.admin_a))
    quoted(cast.gs, deal, [PRO_MARKETING])
    return deal


@pytest.mark.parametrize(
    ("build", "rule"),
    [(_single, "single_candidate"), (_tie, "awaiting_decision"), (_nobody, "no_candidate")],
    ids=["single-candidate", "tie", "no-candidate"],
)
def test_close_preview_writes_nothing_and_equals_the_close(
    cast: Cast, clock: Clock, build: Any, rule: str
) -> None:
    deal = build(cast)
    bought = purchased(("marketing_hub", "800"))
    before = snapshot()
    preview = ok(close(cast.gs, deal, close_date="2026-03-10", lines=bought, preview=True))
    previewed_again = ok(close(cast.gs, deal, close_date="2026-03-10", lines=bought, preview=True))
    assert snapshot() == before  # no row added, changed or audited
    assert previewed_again == preview
    assert Deal.objects.get(pk=deal).status == Deal.Status.OPEN

    closed = ok(close(cast.gs, deal, close_date="2026-03-10", lines=bought))
    decided = {key: closed["resolution"][key] for key in preview["resolution"]}
    assert preview["resolution"] == decided
    assert preview["resolution"]["rule"] == rule
    assert preview["purchase_domain"] == closed["purchase_domain"]
    assert preview["lines"] == [
        {key: line[key] for key in ("product_line", "credited", "eligibility_rule")}
        for line in closed["purchased_lines"]
    ]


def test_close_preview_refuses_what_the_close_refuses(cast: Cast, clock: Clock) -> None:
    deal = _nobody(cast)
    bought = purchased(("marketing_hub", "800"))
    for when, domain, field in (
        ("2019-06-30", "acme.example", "close_date"),
        ("2026-03-10", "unrelated.example", "purchase_domain"),
    ):
        preview = close(cast.gs, deal, close_date=when, domain=domain, lines=bought, preview=True)
        real = close(cast.gs, deal, close_date=when, domain=domain, lines=bought)
        field_error(preview, field)
        assert preview.json() == real.json()
    ok(close(cast.gs, deal, close_date="2026-03-10", lines=bought))
    again = close(cast.gs, deal, close_date="2026-03-10", lines=bought, preview=True)
    assert again.status_code == 409


def test_close_preview_is_the_growth_specialists(cast: Cast, clock: Clock) -> None:
    deal = _nobody(cast)
    body = {
        "purchase_domain": "acme.example",
        "close_date": "2026-03-10",
        "lines": [{"product_line": "marketing_hub"}],
    }
    url = f"/api/v1/deals/{deal}/close-preview/"
    assert api_as(cast.ops).post(url, body, format="json").status_code == 403
    assert api_as(cast.admin_a).post(url, body, format="json").status_code == 404


# --- The tie told truthfully -----------------------------------------------------------------


def _outcome(user: Any, registration: int) -> Any:
    return ok(api_as(user).get(f"/api/v1/registrations/{registration}/"))["outcome"]


def test_tied_partners_read_awaiting_a_decision_and_no_competitor(cast: Cast, clock: Clock) -> None:
    # given: A and B tied; the provider registered too, without a signed POI
    deal = _tie(cast)
    provider = approved(cast.gs, cast.provider_admin)
    mine = Registration.objects.get(organisation=cast.org_a).pk
    theirs = Registration.objects.get(organisation=cast.org_b).pk
    assert _outcome(cast.admin_a, mine) is None  # open: no outcome yet
    closed = ok(
        close(cast.gs, deal, close_date="2026-03-10", lines=purchased(("marketing_hub", "800")))
    )
    assert closed["status"] == "awaiting_decision"
    # then: each tied partner reads "awaiting a decision", a lone partner's words (no count, no
    # name); the provider, whom no decision can credit, reads its final outcome
    for user, registration in ((cast.admin_a, mine), (cast.member_b, theirs)):
        body = api_as(user).get(f"/api/v1/registrations/{registration}/")
        assert body.json()["outcome"] == "awaiting_decision"
        text = body.content.decode()
        for other in (cast.org_a, cast.org_b, cast.provider):
            if other != user.organisation:
                assert other.name not in text
        assert set(body.json()) == set(ok(api_as(user).get("/api/v1/registrations/"))["results"][0])
    assert _outcome(cast.provider_admin, provider) == "not_credited"
    # when partner ops decide, the outcome is final for both
    ok(
        api_as(cast.ops).post(
            f"/api/v1/deals/{deal}/decide/", {"registration": theirs, "reason": "B onboards"}
        )
    )
    assert (_outcome(cast.admin_a, mine), _outcome(cast.admin_b, theirs)) == (
        "not_credited",
        "credited",
    )


def test_referrals_made_before_the_referral_table_are_recorded_by_the_migration(
    cast: Cast, clock: Clock
) -> None:
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("deals.migrations.0004_referrals_from_referred_registrations").backfill
    source = approved(cast.gs, cast.admin_a)
    refer(cast, source, cast.org_b.pk)
    Referral.objects.all().delete()  # as before the table existed
    backfill(apps, None)
    backfill(apps, None)  # twice: nothing more
    assert list(Referral.objects.values_list("registration", "organisation")) == [
        (source, cast.org_b.pk)
    ]
