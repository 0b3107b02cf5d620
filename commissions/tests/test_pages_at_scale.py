"""Commission pages at the vendor's scale (issue 13): a bounded number of queries whatever the
number of statements, lines or entitlements, and every long list paged (a quarter's
statements, a statement's lines, a partner's upcoming accruals), showing what it showed
before: the same order, the same counts, each month's whole total; a closed quarter's totals
kept between views and read afresh once a statement is released or paid.

The figures are those of `test_pages` (worked there): Alpha's line accrues USD 160.00 a month
(USD 480.00 for 2026-Q1, three lines), Bravo's EUR 200.00 a month (held).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from commissions import services, views
from deals.tests.api_steps import start_clock
from tests.cast import Cast, browser_as

from .steps import hold, sourced_line
from .test_pages import closed_q1, get

pytestmark = pytest.mark.django_db


@pytest.fixture
def april(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 April 2026: 2026-Q1 has ended and can be closed."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")


# --- Finance: a quarter's statements -------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["", "?status=held", "?currency=USD", "?partner=alph", "?page=2", "?page=x"]
)
def test_the_quarter_page_reads_a_bounded_number_of_queries(
    cast: Cast, april: None, query: str, django_assert_max_num_queries: Any
) -> None:
    closed_q1(cast)
    client = browser_as(cast.finance)
    # user, authenticator, the close, the totals (until cached), the page's ids and names (and
    # a COUNT with a name filter), the page's statements (until its rows are cached); the
    # session comes from the cache
    with django_assert_max_num_queries(7):
        assert client.get(f"/finance/quarters/2026-Q1/{query}").status_code == 200


def test_the_quarter_pages_statements_by_partner_name_a_page_at_a_time(
    cast: Cast, april: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed_q1(cast)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)

    first = get(cast.finance, "/finance/quarters/2026-Q1/")
    second = get(cast.finance, "/finance/quarters/2026-Q1/?page=2")
    beyond = get(cast.finance, "/finance/quarters/2026-Q1/?page=9")

    # The count comes from the totals (no COUNT), the pages in partner-name order.
    assert "2 statements." in first
    assert "Page 1 of 2" in first
    assert "Alpha Agency USD 480.00 Payable" in first
    assert "Bravo Builders EUR" not in first
    assert "Bravo Builders EUR 600.00 Held" in second
    assert "Alpha Agency USD" not in second
    assert "Bravo Builders EUR 600.00 Held" in beyond  # past the end: the last page


def test_a_filtered_quarter_page_counts_what_matches(
    cast: Cast, april: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed_q1(cast)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    assert "1 statement matching the filters." in get(
        cast.finance, "/finance/quarters/2026-Q1/?status=held"
    )
    assert "1 statement matching the filters." in get(
        cast.finance, "/finance/quarters/2026-Q1/?partner=bravo"
    )
    assert "0 statements matching the filters." in get(
        cast.finance, "/finance/quarters/2026-Q1/?status=paid"
    )


# --- A statement's lines -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["finance", "admin_a"])
def test_a_statements_lines_are_read_a_page_at_a_time(
    cast: Cast,
    april: None,
    who: str,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
) -> None:
    alpha = closed_q1(cast)[cast.org_a.pk]
    monkeypatch.setattr(views, "LINES_PAGE_SIZE", 2)
    url = f"/finance/statements/{alpha.pk}/" if who == "finance" else f"/statements/{alpha.pk}/"
    client = browser_as(getattr(cast, who))
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200

    first = get(getattr(cast, who), url)
    last = get(getattr(cast, who), f"{url}?page=2")

    assert "Page 1 of 2" in first
    assert "January 2026" in first
    assert "February 2026" in first
    assert "March 2026" not in first
    assert "March 2026" in last
    assert "January 2026" not in last


# --- A partner's statements and upcoming accruals -------------------------------------------


def test_upcoming_accruals_are_paged_and_each_month_keeps_its_whole_total(
    cast: Cast, april: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second line of Alpha's: USD 500 a month from January, USD 100.00 a month expected.
    sourced_line(
        cast.org_a,
        close_date=date(2026, 1, 20),
        billing=[(date(2026, 1, 1), None, "500.00")],
        domain="beta.example",
    )
    closed_q1(cast)
    monkeypatch.setattr(views, "UPCOMING_PAGE_SIZE", 2)

    first = get(cast.admin_a, "/statements/").split("Upcoming accruals", 1)[1]
    second = get(cast.admin_a, "/statements/?upcoming=2").split("Upcoming accruals", 1)[1]

    # Six accruals (two lines, April to June), two a page, by month then customer domain.
    assert "Page 1 of 3" in first
    assert "April 2026 · USD 260.00" in first
    assert "May 2026" not in first
    assert "acme.example Marketing Hub USD 800.00 USD 160.00" in first
    assert "beta.example" in first
    assert "May 2026 · USD 260.00" in second
    assert "April 2026" not in second


@pytest.mark.parametrize("lines", [1, 4])
def test_the_partner_statements_page_reads_a_bounded_number_of_queries(
    cast: Cast, april: None, lines: int, django_assert_max_num_queries: Any
) -> None:
    for n in range(lines):
        sourced_line(
            cast.org_a,
            close_date=date(2026, 2, 1),
            billing=[(date(2026, 2, 1), None, "100.00")],
            domain=f"more{n}.example",
        )
    closed_q1(cast)
    client = browser_as(cast.admin_a)
    # session, user, organisation (twice: the header's and the page's), statements and their
    # COUNT, entitlements, billing, revenue-share stops
    with django_assert_max_num_queries(10):
        assert client.get("/statements/").status_code == 200


# --- A closed quarter's totals, kept between views ------------------------------------------


def test_the_quarter_totals_follow_a_release_and_a_payment(
    cast: Cast, april: None, django_capture_on_commit_callbacks: Any
) -> None:
    statements = closed_q1(cast)
    url = "/finance/quarters/2026-Q1/"
    held = r"EUR EUR 600\.00 1 statement EUR 0\.00 0 statements EUR 0\.00"
    assert re.search(held, get(cast.finance, url))
    assert re.search(held, get(cast.finance, url))  # the second view, from the kept totals

    hold(cast.org_b, paperwork=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_statement(actor=cast.finance, statement_id=statements[cast.org_b.pk].pk)
    released = get(cast.finance, url)
    assert re.search(r"EUR EUR 0\.00 0 statements EUR 600\.00 1 statement EUR 0\.00", released)

    services.mark_statement_paid(
        actor=cast.finance,
        statement_id=statements[cast.org_b.pk].pk,
        payment_reference="TRX-9",
        paid_on=date(2026, 4, 2),
    )
    paid = get(cast.finance, url)
    assert re.search(r"EUR EUR 0\.00 0 statements EUR 0\.00 0 statements EUR 600\.00", paid)
