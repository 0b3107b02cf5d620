"""Commission pages: finance's quarters (preview, close), a quarter's statements (totals,
filters, downloads) and a statement (lines with provenance, release, mark paid); a partner's
own statements, why one is held, its lines and upcoming accruals.

The figures, worked by hand: Alpha (partner A) sourced Marketing Hub Professional at USD 800 a
month from January 2026: 20 % = USD 160.00 a month, USD 480.00 for 2026-Q1, payable 45 days
after 31 March = 15 May 2026. Bravo (partner B) sourced a line at EUR 1 000 a month: EUR 200.00
a month, EUR 600.00 for the quarter, held because its payout paperwork is incomplete.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest

from commissions import presenters, services
from commissions.models import LedgerLine, QuarterClose, Statement
from commissions.rules import Program, Quarter
from deals.models import Deal, Poi
from deals.tests.api_steps import start_clock
from partnerportal.core.models import Organisation
from tests.cast import Cast, browser_as

from .steps import accrue, sourced_line

pytestmark = pytest.mark.django_db

Q1 = Quarter(2026, 1)


def text(page: str) -> str:
    """The page's words, without tags, entities or runs of spaces."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def get(user: Any, url: str, status: int = 200) -> str:
    response = browser_as(user).get(url)
    assert response.status_code == status, (response.status_code, response.content[-600:])
    return text(response.content.decode())


@pytest.fixture
def april(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 April 2026: 2026-Q1 has ended and can be closed."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")


def q1_ledger(cast: Cast) -> None:
    """Alpha: USD 800 a month (160 accrued a month); Bravo: EUR 1 000 a month (200 a month),
    payout paperwork incomplete. Accrued January to March 2026."""
    sourced_line(
        cast.org_a,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), None, "800.00")],
        domain="acme.example",
    )
    sourced_line(
        cast.org_b,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), None, "1000.00")],
        currency="EUR",
        domain="bravo-customer.example",
    )
    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=False)
    Deal.objects.update(resolution_rule="single_candidate")
    accrue(date(2026, 3, 1))


def closed_q1(cast: Cast) -> dict[int, Statement]:
    q1_ledger(cast)
    services.close_quarter(actor=cast.finance, quarter=Q1)
    return {s.organisation_id: s for s in Statement.objects.all()}


# --- Words -------------------------------------------------------------------------------------


def test_every_code_a_commission_page_shows_has_words() -> None:
    assert set(presenters.STATUS_WORDS) == set(Statement.Status)
    assert set(presenters.HELD_REASON_WORDS) == set(Statement.HeldReason)
    assert set(presenters.PARTNER_HELD_REASON_WORDS) == set(Statement.HeldReason)
    assert set(presenters.KIND_WORDS) == set(LedgerLine.Kind)
    assert set(presenters.PROGRAM_WORDS) == set(Program)
    assert set(presenters.POI_STATUS_WORDS) == set(Poi.Status)


def test_money_month_and_rate_read_as_people_write_them() -> None:
    from decimal import Decimal

    assert presenters.money_text(Decimal("1234.5"), "USD") == "USD 1,234.50"
    assert presenters.money_text(Decimal("-160.00"), "EUR") == "EUR -160.00"
    assert presenters.month_text(date(2026, 3, 1)) == "March 2026"
    assert presenters.rate_text(Decimal("0.20")) == "20 %"
    assert presenters.resolution_text("single_candidate").startswith("Single candidate")
    # The words of a Best Partner Wins step are deals' (one home), read through its selector.
    assert presenters.resolution_text("ops_decision") == "Decided by partner ops"


# --- Finance: quarters, preview, close ---------------------------------------------------------


def test_finance_previews_a_quarter_with_totals_and_held_partners_and_writes_nothing(
    cast: Cast, april: None
) -> None:
    q1_ledger(cast)

    listing = get(cast.finance, "/finance/quarters/")
    assert "Preview close of 2026-Q1" in listing
    assert "No quarter is closed yet." in listing

    page = get(cast.finance, "/finance/quarters/2026-Q1/preview/")

    assert "Preview of the close of 2026-Q1" in page
    assert "Closing would make 2 statements from 6 ledger lines, payable on 15 May 2026" in page
    # Totals by currency and status: USD 480.00 payable; EUR 600.00 held.
    assert re.search(r"EUR EUR 600\.00 1 statement EUR 0\.00 0 statements", page)
    assert re.search(r"USD USD 0\.00 0 statements USD 480\.00 1 statement", page)
    assert (
        "Bravo Builders EUR 600.00 Payout paperwork (bank and tax details) is incomplete." in page
    )
    assert "payout_paperwork" not in page
    assert "Close quarter 2026-Q1" in page
    assert (QuarterClose.objects.count(), Statement.objects.count()) == (0, 0)


def test_closing_needs_the_confirmation_then_closes_through_the_service(
    cast: Cast, april: None
) -> None:
    q1_ledger(cast)
    client = browser_as(cast.finance)

    unconfirmed = client.post("/finance/quarters/2026-Q1/close/", {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm the close: it cannot be undone." in text(
        unconfirmed.content.decode()
    )
    assert (QuarterClose.objects.count(), Statement.objects.count()) == (0, 0)

    closed = client.post("/finance/quarters/2026-Q1/close/", {"confirm": "on"}, follow=True)

    assert closed.redirect_chain == [("/finance/quarters/2026-Q1/", 302)]
    page = text(closed.content.decode())
    assert "2026-Q1 is closed: 2 statements from 6 ledger lines." in page
    assert QuarterClose.objects.get().closed_by == cast.finance
    again = client.post("/finance/quarters/2026-Q1/close/", {"confirm": "on"}, follow=True)
    assert "2026-Q1 was already closed: nothing changed." in text(again.content.decode())
    assert Statement.objects.count() == 2


def test_a_quarter_not_ended_cannot_be_previewed_or_closed_and_the_page_says_why(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-03-20T08:00:00")
    client = browser_as(cast.finance)

    preview = client.get("/finance/quarters/2026-Q1/preview/")
    close = client.post("/finance/quarters/2026-Q1/close/", {"confirm": "on"})

    assert (preview.status_code, close.status_code) == (409, 409)
    assert "2026-Q1 has not ended yet: it can be closed from 2026-04-01." in text(
        close.content.decode()
    )
    assert QuarterClose.objects.count() == 0


@pytest.mark.parametrize("quarter", ["1999-Q4", "3000-Q1"])
def test_a_quarter_the_rules_refuse_is_not_found(cast: Cast, quarter: str) -> None:
    assert browser_as(cast.finance).get(f"/finance/quarters/{quarter}/").status_code == 404


def test_the_page_of_a_quarter_not_closed_leads_to_its_preview(cast: Cast, april: None) -> None:
    response = browser_as(cast.finance).get("/finance/quarters/2026-Q1/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/finance/quarters/2026-Q1/preview/",
    )


# --- Finance: a closed quarter -----------------------------------------------------------------


def test_the_quarter_page_shows_totals_by_status_and_currency_and_its_statements(
    cast: Cast, april: None
) -> None:
    closed_q1(cast)

    page = get(cast.finance, "/finance/quarters/2026-Q1/")

    assert "Statements of 2026-Q1" in page
    assert "payable on 15 May 2026" in page
    assert re.search(r"EUR EUR 600\.00 1 statement EUR 0\.00 0 statements EUR 0\.00", page)
    assert re.search(r"USD USD 0\.00 0 statements USD 480\.00 1 statement USD 0\.00", page)
    assert "All statements" in page
    assert "2 statements." in page
    assert "Alpha Agency USD 480.00 Payable Payable on 15 May 2026" in page
    assert "Bravo Builders EUR 600.00 Held Payout paperwork (bank and tax details)" in page
    for fmt in ("csv", "xlsx", "pdf"):
        assert f'href="/finance/quarters/2026-Q1/export.{fmt}"' in (
            browser_as(cast.finance).get("/finance/quarters/2026-Q1/").content.decode()
        )


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=held", "Bravo Builders", "Alpha Agency"),
        ("currency=USD", "Alpha Agency", "Bravo Builders"),
        ("partner=alph", "Alpha Agency", "Bravo Builders"),
        ("status=payable&currency=EUR", "No statement matches the filters.", "Alpha Agency"),
    ],
)
def test_the_quarters_statements_filter_by_status_currency_and_partner(
    cast: Cast, april: None, query: str, shown: str, hidden: str
) -> None:
    closed_q1(cast)
    page = get(cast.finance, f"/finance/quarters/2026-Q1/?{query}")
    table = page.split("Statements Status", 1)[1]
    assert shown in table
    assert hidden not in table


def test_an_invalid_filter_is_said_and_ignored(cast: Cast, april: None) -> None:
    closed_q1(cast)
    page = get(cast.finance, "/finance/quarters/2026-Q1/?status=lost&currency=XXX")
    assert "“lost” is not a status: showing every status." in page
    assert "“XXX” is not a currency of the program: showing every one." in page
    assert "2 statements." in page


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
    ],
)
def test_a_closed_quarter_downloads_as_an_attachment(
    cast: Cast, april: None, fmt: str, content_type: str
) -> None:
    closed_q1(cast)
    response = browser_as(cast.finance).get(f"/finance/quarters/2026-Q1/export.{fmt}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.rstrip('"').endswith(f".{fmt}")
    assert response.content


def test_a_quarter_not_closed_has_no_download(cast: Cast, april: None) -> None:
    q1_ledger(cast)
    response = browser_as(cast.finance).get("/finance/quarters/2026-Q1/export.csv")
    assert response.status_code == 409


# --- Finance: a statement ----------------------------------------------------------------------


def test_the_finance_statement_page_shows_each_line_with_its_provenance(
    cast: Cast, april: None
) -> None:
    statements = closed_q1(cast)
    alpha = statements[cast.org_a.pk]
    entitlement = LedgerLine.objects.filter(organisation=cast.org_a).first().entitlement  # type: ignore[union-attr]

    page = get(cast.finance, f"/finance/statements/{alpha.pk}/")

    assert "Alpha Agency: 2026-Q1 in USD" in page
    assert "Amount USD 480.00" in page
    assert "Status Payable" in page
    for month in ("January 2026", "February 2026", "March 2026"):
        assert (
            f"{month} Customer acme.example Marketing Hub USD 800.00 20 % USD 160.00 Accrual"
        ) in page.replace(entitlement.customer.name, "Customer")
    assert f"Partner Sourced, entitlement #{entitlement.pk}" in page
    assert (
        f"Deal #{entitlement.deal_id}, registration #{entitlement.association.registration_id}"
        in page
    )
    assert "POI: no proof of involvement" in page
    assert "Won by: Single candidate: the only partner with a counting POI wins" in page
    assert "partner_sourced" not in page
    assert "single_candidate" not in page
    assert "Mark paid" in page
    assert "Release the statement" not in page


def test_finance_releases_a_held_statement_only_once_its_cause_is_gone(
    cast: Cast, april: None
) -> None:
    bravo = closed_q1(cast)[cast.org_b.pk]
    client = browser_as(cast.finance)
    url = f"/finance/statements/{bravo.pk}/release/"

    refused = client.post(url)
    assert refused.status_code == 409
    assert "The statement stays held: payout paperwork is incomplete." in text(
        refused.content.decode()
    )
    assert Statement.objects.get(pk=bravo.pk).status == "held"

    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=True)
    released = client.post(url, follow=True)
    page = text(released.content.decode())
    assert "Released: the statement of Bravo Builders is payable on 15 May 2026." in page
    assert "Status Payable" in page
    assert Statement.objects.get(pk=bravo.pk).status == "payable"


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"payment_reference": "", "paid_on": "2026-04-01"}, "Give the payment reference"),
        ({"payment_reference": "TRX-1", "paid_on": "01/04/2026x"}, "Give the day as YYYY-MM-DD"),
        ({"payment_reference": "TRX-1", "paid_on": ""}, "Give the day the statement was paid."),
        ({"payment_reference": "x" * 101, "paid_on": "2026-04-01"}, "at most 100 characters"),
        (
            {"payment_reference": "TRX-1", "paid_on": "2026-03-30"},
            "A payment of 2026-Q1 cannot be dated before 2026-03-31.",
        ),
        (
            {"payment_reference": "TRX-1", "paid_on": "2026-04-03"},
            "A payment cannot be dated in the future.",
        ),
    ],
)
def test_marking_paid_with_bad_input_shows_the_field_error_and_writes_nothing(
    cast: Cast, april: None, data: dict[str, str], field_error: str
) -> None:
    alpha = closed_q1(cast)[cast.org_a.pk]

    response = browser_as(cast.finance).post(f"/finance/statements/{alpha.pk}/paid/", data)

    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="field-error"' in body
    assert field_error in text(body)
    assert Statement.objects.get(pk=alpha.pk).status == "payable"


def test_finance_marks_a_payable_statement_paid_and_not_a_held_one(cast: Cast, april: None) -> None:
    statements = closed_q1(cast)
    client = browser_as(cast.finance)
    data = {"payment_reference": "TRX-2026-0415", "paid_on": "2026-04-01"}

    held = client.post(f"/finance/statements/{statements[cast.org_b.pk].pk}/paid/", data)
    assert held.status_code == 409
    assert "release it first" in text(held.content.decode())

    done = client.post(
        f"/finance/statements/{statements[cast.org_a.pk].pk}/paid/", data, follow=True
    )
    page = text(done.content.decode())
    assert "Marked paid: the statement of Alpha Agency (TRX-2026-0415)." in page
    assert "Status Paid" in page
    assert "Paid on 1 Apr 2026 Payment reference TRX-2026-0415" in page
    assert "Mark paid" not in page.replace("Marked paid", "")


# --- Partners: their own statements ------------------------------------------------------------


def test_a_partner_reads_its_statements_why_one_is_held_and_its_lines(
    cast: Cast, april: None
) -> None:
    bravo = closed_q1(cast)[cast.org_b.pk]

    listing = get(cast.member_b, "/statements/")

    assert "2026-Q1 in EUR EUR 600.00 Held 15 May 2026" in listing
    assert "Your payout paperwork (bank and tax details) is incomplete" in listing
    assert "Alpha Agency" not in listing
    assert "USD 480.00" not in listing

    page = get(cast.member_b, f"/statements/{bravo.pk}/")
    assert "Your statement for 2026-Q1 in EUR" in page
    assert "Why this statement is held" in page
    assert page.count("EUR 1,000.00 20 % EUR 200.00 Accrual") == 3
    assert "bravo-customer.example" in page
    assert "entitlement #" not in page  # provenance beyond the line is finance's


def test_a_partner_sees_what_its_entitlements_are_expected_to_accrue_next(
    cast: Cast, april: None
) -> None:
    closed_q1(cast)

    page = get(cast.admin_a, "/statements/")

    upcoming = page.split("Upcoming accruals", 1)[1]
    for month in ("April 2026", "May 2026", "June 2026"):
        assert f"{month} · USD 160.00" in upcoming
    assert upcoming.count("acme.example Marketing Hub USD 800.00 USD 160.00") == 3


def test_another_partners_statement_is_not_found_like_a_missing_one(
    cast: Cast, april: None
) -> None:
    bravo = closed_q1(cast)[cast.org_b.pk]
    other = browser_as(cast.admin_a).get(f"/statements/{bravo.pk}/")
    missing = browser_as(cast.admin_a).get("/statements/999999/")
    assert (other.status_code, missing.status_code) == (404, 404)
    assert "Bravo Builders" not in other.content.decode()


def test_finance_opening_a_partner_statement_link_lands_on_its_finance_page(
    cast: Cast, april: None
) -> None:
    alpha = closed_q1(cast)[cast.org_a.pk]
    response = browser_as(cast.finance).get(f"/statements/{alpha.pk}/")
    assert response["Location"] == f"/finance/statements/{alpha.pk}/"


@pytest.mark.parametrize("who", ["admin_a", "member_b", "gs", "pdm", "ops"])
def test_only_finance_closes_releases_and_marks_paid(cast: Cast, april: None, who: str) -> None:
    statements = closed_q1(cast)
    client = browser_as(cast.people()[who])
    alpha, bravo = statements[cast.org_a.pk], statements[cast.org_b.pk]
    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=True)
    responses = [
        client.get("/finance/quarters/"),
        client.get("/finance/quarters/2025-Q4/preview/"),
        client.post("/finance/quarters/2025-Q4/close/", {"confirm": "on"}),
        client.get("/finance/quarters/2026-Q1/export.csv"),
        client.get(f"/finance/statements/{alpha.pk}/"),
        client.post(f"/finance/statements/{bravo.pk}/release/"),
        client.post(
            f"/finance/statements/{alpha.pk}/paid/",
            {"payment_reference": "X", "paid_on": "2026-04-01"},
        ),
    ]
    assert [r.status_code for r in responses] == [403] * 7
    assert QuarterClose.objects.count() == 1
    assert sorted(Statement.objects.values_list("status", flat=True)) == ["held", "payable"]


# --- Bounded queries ---------------------------------------------------------------------------


def more_partners(count: int) -> None:
    """`count` more partners, each with a USD 500 line accrued through 2026-Q1 (but not closed
    yet: the caller closes)."""
    from tests.factories import OrganisationFactory

    for n in range(count):
        organisation = OrganisationFactory(name=f"Extra {n}")
        sourced_line(
            organisation,
            close_date=date(2026, 1, 12),
            billing=[(date(2026, 1, 1), None, "500.00")],
            domain=f"extra{n}.example",
        )


@pytest.mark.parametrize("extra", [0, 12])
def test_finance_pages_read_a_bounded_number_of_queries(
    cast: Cast, april: None, extra: int, django_assert_max_num_queries: Any
) -> None:
    more_partners(extra)
    statements = closed_q1(cast)
    client = browser_as(cast.finance)
    client.get("/finance/quarters/")  # the session, warmed
    for url in (
        "/finance/quarters/",
        "/finance/quarters/2026-Q1/",
        "/finance/quarters/2026-Q1/?status=payable&partner=a",
        f"/finance/statements/{statements[cast.org_a.pk].pk}/",
    ):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("extra_quarters", [0, 2])
def test_partner_pages_read_a_bounded_number_of_queries(
    cast: Cast,
    monkeypatch: pytest.MonkeyPatch,
    extra_quarters: int,
    django_assert_max_num_queries: Any,
) -> None:
    start_clock(monkeypatch, "2026-10-02T08:00:00")
    q1_ledger(cast)
    accrue(date(2026, 9, 1))
    services.close_quarter(actor=cast.finance, quarter=Q1)
    for quarter in [Quarter(2026, 2), Quarter(2026, 3)][:extra_quarters]:
        services.close_quarter(actor=cast.finance, quarter=quarter)
    client = browser_as(cast.admin_b)
    client.get("/statements/")
    statement = Statement.objects.filter(organisation=cast.org_b).first()
    assert statement is not None
    for url in ("/statements/", f"/statements/{statement.pk}/"):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


# --- Navigation --------------------------------------------------------------------------------


def test_finance_lands_on_its_quarters_and_each_role_finds_its_statement_link(
    cast: Cast,
) -> None:
    home = browser_as(cast.finance).get("/")
    assert (home.status_code, home["Location"]) == (302, "/finance/quarters/")
    finance_nav = browser_as(cast.finance).get("/finance/quarters/").content.decode()
    assert '<a href="/finance/quarters/">Quarters</a>' in finance_nav
    partner_nav = browser_as(cast.member_a).get("/statements/").content.decode()
    assert '<a href="/statements/">Statements</a>' in partner_nav
    ops_nav = browser_as(cast.ops).get("/accreditations/").content.decode()
    assert 'href="/statements/"' not in ops_nav
    assert 'href="/finance/quarters/"' not in ops_nav
