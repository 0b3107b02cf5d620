"""The tier pages (issue 4): a partner's tier page (its home page, and /partners/<id>/tier/
for its PDM and partner ops), the lines CSV, the what-if panel, and the PDM/ops partners list.
Tenancy: another partner gets a 404 that names nothing of the partner; a GS or finance sees
the partner but not its tier (403). Each page reads a bounded number of queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from partnerportal.core.models import Country, Currency, Customer, Organisation
from tests.cast import Cast, browser_as
from tests.factories import (
    CustomerFactory,
    OrganisationFactory,
    SoldAssociationFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
)
from tiers import rules, selectors, services, views
from tiers.models import TierAssessment
from tiers.tests.test_api import MARCH, line

pytestmark = pytest.mark.django_db

FEBRUARY = date(2026, 2, 15)


@pytest.fixture
def assessed(cast: Cast) -> Cast:
    """A's March 2026 figures (as in test_api): sourced USD 2 000 new (100 points), assisted
    USD 500 new in Brazil (500 x 3 x 2 / 100 = 30), managed USD 5 000 (50): total 180,
    untiered. Gold (2026 rules) needs sold 110, managed 38, total 325. A February run too
    (the managed activity is of 1 March, so February has 130 points)."""
    a = cast.org_a
    line(a, mrr="2000.00", sold="sourced")
    line(a, mrr="500.00", country="BR", sold="assisted")
    line(a, mrr="5000.00", managed=True)
    services.tier_run(as_of=FEBRUARY, actor=None)
    services.tier_run(as_of=MARCH, actor=None)
    return cast


def domain(cast: Cast, kind: str) -> str:
    """The domain of A's customer with a line of `kind` in its latest assessment."""
    latest = TierAssessment.objects.filter(organisation=cast.org_a).latest("as_of")
    (found,) = selectors.assessment_lines(latest, {"kind": kind})
    return found.customer.domain


def tier_url(org: Organisation, suffix: str = "") -> str:
    return f"/partners/{org.pk}/tier/{suffix}"


def page(user: Any, url: str) -> str:
    response = browser_as(user).get(url)
    assert response.status_code == 200, response.content[-500:]
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, without tags and runs of spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def csv_rows(response: HttpResponse | StreamingHttpResponse) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(body)))


# --- The page ------------------------------------------------------------------------------------


def test_a_partner_tier_page_shows_its_points_towards_the_next_tier(assessed: Cast) -> None:
    # when: (a partner's Home is its dashboard, distinct from this page: tests/test_navigation.py)
    html = page(assessed.member_a, tier_url(assessed.org_a))

    # then
    words = text(html)
    assert 'id="current-tier">Untiered<' in html
    assert "Assessed on 15 Mar 2026" in words
    for key, value in (("sourced", 100), ("assisted", 30), ("managed", 50), ("total", 180)):
        assert f'id="points-{key}">{value}<' in html
    assert "Towards Gold" in words
    assert '<progress id="progress-sold" max="110" value="100"' in html
    assert '<progress id="progress-managed" max="38" value="38"' in html
    assert '<progress id="progress-total" max="325" value="180"' in html
    assert "100 of 110 points · 10 to go" in words
    assert "180 of 325 points · 145 to go" in words
    assert domain(assessed, "sourced") in html
    assert f'href="/partners/{assessed.org_a.pk}/tier/lines.csv"' in html
    assert assessed.org_b.name not in html


def test_pdm_and_partner_ops_see_the_same_page_without_the_customers(assessed: Cast) -> None:
    for person in (assessed.pdm, assessed.ops):
        html = page(person, tier_url(assessed.org_a))
        assert '<progress id="progress-total" max="325" value="180"' in html
        assert 'id="customers"' not in html
        assert 'href="/tiers/partners/"' in html


def test_the_points_are_shown_rounded_down(cast: Cast) -> None:
    # 1 999.99 USD sourced is 99.9995 points: shown as 99, and 11 to go for the sold minimum.
    line(cast.org_a, mrr="1999.99", sold="sourced")
    services.tier_run(as_of=MARCH, actor=None)

    html = page(cast.admin_a, tier_url(cast.org_a))

    assert 'id="points-sourced">99<' in html
    assert "99 of 110 points · 11 to go" in text(html)


def test_the_chart_and_history_show_every_assessment(assessed: Cast) -> None:
    html = page(assessed.pdm, tier_url(assessed.org_a))

    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    total = re.search(r'series-total"><polyline points="([^"]+)"', svg.group(0))
    assert total is not None
    assert len(total.group(1).split()) == 2
    assert "15 Feb 2026: 130 total points" in svg.group(0)
    assert "15 Mar 2026: 180 total points" in svg.group(0)
    assert "Gold total minimum (325)" in svg.group(0)
    history = text(html.split('id="history"')[1].split("</details>")[0])
    assert "15 Mar 2026 Untiered 100 30 50 180" in history
    assert "15 Feb 2026 Untiered 100 30 0 130" in history


def test_the_benefits_matrix_shows_what_the_tier_unlocks_and_what_comes_next(
    assessed: Cast,
) -> None:
    html = page(assessed.admin_a, tier_url(assessed.org_a))
    matrix = html.split('id="benefits-matrix"')[1]
    upcoming = text(html.split('id="next-benefits">')[1].split("</ul>")[0])

    # Untiered -> Gold adds only the advisory council (seeds/004).
    assert upcoming.strip() == "Eligibility to apply to the partner advisory council"
    assert "Marketing development funds (MDF) eligibility" in matrix
    held = len(rules.benefits_for(org_kind=rules.OrgKind.PARTNER, tier=rules.Tier.UNTIERED))
    assert f"{held} of the program's {len(rules.BENEFITS)} benefits" in text(html)


def test_every_benefit_has_words_once() -> None:
    labelled = [benefit for _, rows in views.BENEFIT_GROUPS for benefit, _ in rows]
    assert sorted(labelled) == sorted(rules.Benefit)


def test_a_gold_partner_sees_platinum_benefits_to_come(assessed: Cast) -> None:
    Organisation.objects.filter(pk=assessed.org_a.pk).update(tier="gold")

    html = page(assessed.admin_a, tier_url(assessed.org_a))

    upcoming = html.split('id="next-benefits"')[1].split("</ul>")[0]
    assert "Marketing development funds (MDF) eligibility" in upcoming
    assert "Partner matching eligibility" in upcoming
    assert "Towards Platinum" in html


def test_the_tier_page_says_why_a_partner_is_not_eligible_for_partner_matching(
    assessed: Cast,
) -> None:
    html = text(
        page(assessed.admin_a, tier_url(assessed.org_a))
        .split('id="partner-matching"')[1]
        .split("</section>")[0]
    )

    assert f"{assessed.org_a.name} is not eligible for partner matching" in html
    assert (
        "No valid accreditation. Without one, partner matching needs all of the following:" in html
    )
    assert "a tier of Platinum or above;" in html
    assert "customer retention of at least 85 % over the last 12 months;" in html
    assert "no_valid_accreditation" not in html


def test_a_platinum_partner_not_eligible_does_not_hold_partner_matching_in_the_matrix(
    assessed: Cast,
) -> None:
    # The March run keeps Platinum (not a down-tiering window) but A holds no accreditation
    # nor certification: the matrix's Platinum column offers partner matching, A lacks it.
    Organisation.objects.filter(pk=assessed.org_a.pk).update(tier="platinum")
    TierAssessment.objects.filter(organisation=assessed.org_a).delete()
    services.tier_run(as_of=MARCH, actor=None)

    html = page(assessed.admin_a, tier_url(assessed.org_a))

    held = len(rules.benefits_for(org_kind=rules.OrgKind.PARTNER, tier=rules.Tier.PLATINUM))
    assert f"{held - 1} of the program's {len(rules.BENEFITS)} benefits" in text(html)
    row = html.split("Partner matching eligibility</th>")[0].rsplit("<tr", 1)[1]
    assert 'class="held"' not in row


# --- At risk, no assessment ----------------------------------------------------------------------


def test_an_at_risk_partner_is_warned_with_the_next_down_tiering_window(cast: Cast) -> None:
    # given: A holds Gold but its March points (180) only qualify for Untiered
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="gold")
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="500.00", country="BR", sold="assisted")
    line(cast.org_a, mrr="5000.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    assert TierAssessment.objects.get(organisation=cast.org_a).at_risk

    # when
    html = page(cast.member_a, tier_url(cast.org_a))

    # then
    window = rules.next_down_tiering_window(max(MARCH, timezone.localdate() - timedelta(days=1)))
    warning = text(html.split('id="at-risk"')[1].split("</section>")[0])
    assert "At risk: Gold" in warning
    assert f"the run of {window:%-d %b %Y}" in warning
    assert "To keep Gold" in warning
    assert '<progress id="keep-total" max="325" value="180"' in html
    assert "Towards Platinum" in html


def test_a_partner_without_an_assessment_is_told_so_and_when_the_run_is(cast: Cast) -> None:
    html = page(cast.admin_a, tier_url(cast.org_a))

    words = text(html)
    next_run = views.next_run_date(timezone.localdate())
    assert "No assessment yet" in words
    assert f"next monthly run, on {next_run:%-d %b %Y}" in words
    assert "<progress" not in html
    assert 'id="what-if"' not in html
    assert "Customers and subscriptions" not in html  # on Home, the dashboard (issue 13)
    # the lines CSV is just its header
    response = browser_as(cast.admin_a).get(tier_url(cast.org_a, "lines.csv"))
    assert response.status_code == 200
    assert csv_rows(response) == []


@pytest.mark.parametrize(
    ("today", "run"),
    [
        (date(2026, 11, 22), date(2026, 12, 15)),
        (date(2026, 12, 16), date(2027, 1, 15)),
        (date(2026, 3, 15), date(2026, 3, 15)),  # the run is late on the 15th
        (date(2026, 3, 1), date(2026, 3, 15)),
    ],
)
def test_next_run_date(today: date, run: date) -> None:
    assert views.next_run_date(today) == run


# --- Tenancy and roles ---------------------------------------------------------------------------


def test_another_partner_gets_a_404_that_names_nothing_of_the_partner(assessed: Cast) -> None:
    for person in (assessed.admin_b, assessed.member_b, assessed.provider_admin):
        client = browser_as(person)
        for url in (tier_url(assessed.org_a), tier_url(assessed.org_a, "lines.csv")):
            response = client.get(url)
            assert response.status_code == 404, (person, url)
            # Random tokens (CSRF, CSP nonce) can hold any digits: they are not about A.
            body = re.sub(r'="[A-Za-z0-9+/=_-]{20,}"', '=""', response.content.decode())
            assert assessed.org_a.name not in body
            assert domain(assessed, "sourced") not in body
            assert "180" not in body


def test_a_pdm_sees_only_its_own_partners_tiers(assessed: Cast) -> None:
    client = browser_as(assessed.pdm)  # assigned to A only
    assert client.get(tier_url(assessed.org_a)).status_code == 200
    assert client.get(tier_url(assessed.org_b)).status_code == 404
    assert client.get(tier_url(assessed.org_b, "lines.csv")).status_code == 404


def test_staff_who_see_a_partner_but_not_its_tier_are_refused(assessed: Cast) -> None:
    for person in (assessed.gs, assessed.finance):
        client = browser_as(person)
        assert client.get(tier_url(assessed.org_a)).status_code == 403
        assert client.get(tier_url(assessed.org_a, "lines.csv")).status_code == 403
        assert client.get("/tiers/partners/").status_code == 403


def test_a_provider_has_no_tier_page(cast: Cast) -> None:
    assert browser_as(cast.ops).get(tier_url(cast.provider)).status_code == 404
    assert browser_as(cast.provider_admin).get(tier_url(cast.provider)).status_code == 404
    # a provider's home stays its organisation page
    html = page(cast.provider_admin, "/")
    assert "Customers and subscriptions" in html
    assert "<progress" not in html
    assert ">Tier</a>" not in html


def test_the_nav_links_to_the_tier_pages(cast: Cast) -> None:
    assert f'href="/partners/{cast.org_a.pk}/tier/">Tier</a>' in page(cast.member_a, "/")
    for person in (cast.pdm, cast.ops):
        assert 'href="/tiers/partners/">Partner tiers</a>' in page(person, "/")
    for person in (cast.gs, cast.finance):  # each lands on its own page (a redirect)
        assert "Partner tiers" not in browser_as(person).get("/", follow=True).content.decode()


# --- Lines: filters, pagination, CSV -------------------------------------------------------------


def lines_table(html: str) -> str:
    return html.split('id="lines-count"')[1].split("</section>")[0]


def test_the_lines_filter_by_kind_product_line_and_customer(assessed: Cast) -> None:
    url = tier_url(assessed.org_a)
    sourced, assisted, managed = (domain(assessed, k) for k in ("sourced", "assisted", "managed"))
    by_kind = lines_table(page(assessed.admin_a, f"{url}?kind=sourced"))
    assert sourced in by_kind
    assert assisted not in by_kind
    assert "1 line matching the filters" in text(by_kind)

    searched = lines_table(page(assessed.admin_a, f"{url}?q={managed.upper()}"))
    assert managed in searched
    assert sourced not in searched

    none = lines_table(page(assessed.admin_a, f"{url}?product_line=sales_hub"))
    assert "No line matches these filters." in none
    assert "0 lines matching the filters" in text(none)

    # SQL wildcards in the search are characters, not patterns.
    for wildcard in ("%25", "_", "%5C"):
        literal = lines_table(page(assessed.admin_a, f"{url}?q={wildcard}"))
        assert "No line matches these filters." in literal, wildcard


def test_a_bad_filter_is_shown_and_ignored_not_a_500(assessed: Cast) -> None:
    html = page(assessed.admin_a, f"{tier_url(assessed.org_a)}?kind=bogus&product_line=nope")

    assert "“bogus” is not a kind of line: showing all kinds." in html
    assert "“nope” is not a product line: showing all product lines." in html
    assert "3 lines." in text(lines_table(html))


def test_the_lines_are_paginated_keeping_the_filters(cast: Cast) -> None:
    for _ in range(views.LINES_PAGE_SIZE + 5):
        line(cast.org_a, mrr="100.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    url = tier_url(cast.org_a)

    first = page(cast.admin_a, f"{url}?kind=managed")
    second = page(cast.admin_a, f"{url}?kind=managed&page=2")

    assert lines_table(first).count("<tr>") - 1 == views.LINES_PAGE_SIZE
    assert 'href="?kind=managed&amp;page=2#lines"' in first
    assert lines_table(second).count("<tr>") - 1 == 5
    assert "Page 2 of 2" in second


def test_the_csv_has_every_line_with_exact_figures(assessed: Cast) -> None:
    response = browser_as(assessed.pdm).get(tier_url(assessed.org_a, "lines.csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="tier-lines-alpha-agency-2026-03-15.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [list(rows[0])] == [list(views.CSV_HEADER)]
    assert sorted(
        (r["kind"], r["customer_country"], r["mrr_this_month"], r["mrr_year_ago"], r["points"])
        for r in rows
    ) == [
        ("assisted", "BR", "500.00", "0.00", "30.000000000000"),
        ("managed", "GB", "5000.00", "", "50.000000000000"),
        ("sourced", "GB", "2000.00", "0.00", "100.000000000000"),
    ]
    assisted = next(r for r in rows if r["kind"] == "assisted")
    assert (assisted["as_of"], assisted["currency"], assisted["growth_market"]) == (
        "2026-03-15",
        "USD",
        "yes",
    )
    assert (assisted["product_line"], assisted["product_line_name"]) == (
        "marketing_hub",
        "Marketing Hub",
    )


def test_the_csv_respects_the_filters_and_the_page_links_them(assessed: Cast) -> None:
    url = tier_url(assessed.org_a)
    html = page(assessed.admin_a, f"{url}?kind=managed&q=customer")
    assert f'href="{url}lines.csv?kind=managed&amp;q=customer"' in html

    response = browser_as(assessed.admin_a).get(f"{url}lines.csv?kind=managed&q=customer")

    assert [r["kind"] for r in csv_rows(response)] == ["managed"]


def test_the_csv_neutralises_spreadsheet_formulas(cast: Cast) -> None:
    line(cast.org_a, mrr="100.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    (found,) = selectors.assessment_lines(TierAssessment.objects.get(organisation=cast.org_a))
    customer = Customer.objects.get(pk=found.customer.id)
    customer.name = '=HYPERLINK("http://evil.example")'
    customer.save()

    response = browser_as(cast.admin_a).get(tier_url(cast.org_a, "lines.csv"))

    assert csv_rows(response)[0]["customer_name"] == '\'=HYPERLINK("http://evil.example")'


# --- What-if -------------------------------------------------------------------------------------


def what_if(cast: Cast, **params: str) -> str:
    query = "&".join(f"wi-{key}={value}" for key, value in params.items())
    return page(cast.admin_a, f"{tier_url(cast.org_a)}?{query}")


def result(html: str) -> str:
    return text(html.split('id="what-if-result"')[1].split("</section>")[0])


def test_what_if_sourced_mrr_lifts_the_partner_to_gold(assessed: Cast) -> None:
    # 3 000 USD sourced in GB: 3 000 x 5 / 100 = 150 points. Sourced 250, managed 50, total
    # 330: Gold (110 / 38 / 325). Platinum (325 / 150 / 925) then misses 75, 100 and 595.
    html = what_if(assessed, kind="sourced", mrr="3000", currency="USD", country="GB")

    words = result(html)
    assert "3,000.00 USD of Partner Sourced MRR for a customer in United Kingdom earns 150" in words
    assert 'id="what-if-tier">Gold<' in html
    assert "up from Untiered" in words
    assert "Then towards Platinum" in words
    assert "250 of 325 points · 75 to go" in words
    assert "50 of 150 points · 100 to go" in words
    assert "330 of 925 points · 595 to go" in words


def test_what_if_managed_in_a_growth_market_in_euros(assessed: Cast) -> None:
    # 750 EUR managed in Brazil: 750 x 1 x 2 / 75 = 20 points: total 200, still untiered.
    html = what_if(assessed, kind="managed", mrr="750", currency="eur", country="br")

    words = result(html)
    assert "750.00 EUR of Managed MRR for a customer in Brazil (a growth market" in words
    assert "earns 20 points" in words
    assert 'id="what-if-tier">Untiered<' in html
    assert "same as now" in words
    assert "200 of 325 points · 125 to go" in words


def test_what_if_without_the_prerequisites_stays_untiered(assessed: Cast) -> None:
    Organisation.objects.filter(pk=assessed.org_a.pk).update(has_partner_certification=False)

    html = what_if(assessed, kind="sourced", mrr="100000", currency="USD", country="GB")

    assert 'id="what-if-tier">Untiered<' in html
    assert "Without the program prerequisites" in result(html)
    assert 'id="prerequisites"' in html


def test_what_if_assisted_in_pounds(assessed: Cast) -> None:
    # 1 000 GBP assisted in GB: 1 000 x 3 / 62.5 = 48 points. Assisted does not count for
    # the sold minimum (sourced only since 2025-07-15): still 10 short of Gold's 110.
    html = what_if(assessed, kind="assisted", mrr="1000", currency="GBP", country="GB")

    words = result(html)
    assert "earns 48 points" in words
    assert 'id="what-if-tier">Untiered<' in html
    assert "100 of 110 points · 10 to go" in words
    assert "228 of 325 points · 97 to go" in words


def test_what_if_meeting_the_elite_points_without_invitation_stops_at_diamond(
    cast: Cast,
) -> None:
    line(cast.org_a, mrr="200000.00", managed=True)  # 2 000 managed points
    services.tier_run(as_of=MARCH, actor=None)

    html = what_if(cast, kind="sourced", mrr="200000", currency="USD", country="GB")

    assert 'id="what-if-tier">Diamond<' in html
    assert "Elite also needs an invitation" in result(html)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mrr": "abc"}, "Enter the monthly amount as a number, e.g. 1500 or 1500.50."),
        ({"mrr": ""}, "Enter the monthly amount, e.g. 1500 or 1500.50."),
        ({"mrr": "-5"}, "Enter an amount greater than zero."),
        ({"mrr": "0"}, "Enter an amount greater than zero."),
        ({"mrr": "NaN"}, "Enter the monthly amount as a number"),
        ({"mrr": "1e400"}, "That amount is too large"),
        ({"mrr": "10.005"}, "Enter at most 2 decimal places (cents)."),
        ({"currency": "XXX"}, "“XXX” is not an accepted currency for points. Accepted: AUD,"),
        ({"currency": ""}, "Choose the currency of the MRR."),
        ({"country": "ZZ"}, "“ZZ” is not a known country"),
        ({"kind": "resold"}, "“resold” is not a kind of MRR"),
        ({"mrr": "1" + "0" * 24}, "That amount is too large"),
        ({"mrr": "x" * 1_000_000}, "Enter the monthly amount as a number"),
        ({"mrr_year_ago": "-1"}, "Enter zero or more."),
        ({"mrr_year_ago": "1e25"}, "That amount is too large"),
        ({"mrr_year_ago": "100", "currency_year_ago": "XXX"}, "“XXX” is not an accepted currency"),
        (
            {"kind": "managed", "mrr_year_ago": "100"},
            "Managed lines earn points on the MRR of this month alone: leave the year-ago MRR",
        ),
    ],
)
def test_a_bad_what_if_is_a_message_on_the_form_not_an_error_page(
    assessed: Cast, params: dict[str, str], message: str
) -> None:
    fields = {"kind": "sourced", "mrr": "1000", "currency": "USD", "country": "GB", **params}

    html = what_if(assessed, **fields)  # a 200, checked by page()

    errors = " ".join(re.findall(r'class="field-error" id="[^"]*">([^<]*)<', html))
    assert message in errors
    assert 'id="what-if-tier"' not in html
    assert '<progress id="progress-total" max="325" value="180"' in html  # the page is intact


def test_what_if_of_a_line_re_billed_in_another_currency_earns_what_the_run_gives_it(
    cast: Cast,
) -> None:
    """A GB customer billed GBP 250 a year ago and USD 900 since February, sold by A: the
    March run compares the months in USD-100 units (GBP 250 is USD 400 for points), so the
    line earns (900 - 400) x 5 / 100 = 25 sourced points, not (900 - 250) x 5 / 100 = 32.5.
    The what-if, given the same line, says the same."""
    # given: the line, and A's March assessment with it
    customer = CustomerFactory(domain="rebilled.example", country=Country.objects.get(code="GB"))
    subscription = SubscriptionFactory(customer=customer)
    for mrr, currency, start, until in (
        ("250.00", "GBP", date(2025, 1, 1), date(2026, 2, 1)),
        ("900.00", "USD", date(2026, 2, 1), None),
    ):
        SubscriptionVersionFactory(
            subscription=subscription,
            mrr=Decimal(mrr),
            currency=Currency.objects.get(code=currency),
            effective_from=start,
            effective_until=until,
        )
    SoldAssociationFactory(
        organisation=cast.org_a, customer=customer, product_line=subscription.product_line
    )
    services.tier_run(as_of=MARCH, actor=None)
    (run_line,) = selectors.assessment_lines(TierAssessment.objects.get(organisation=cast.org_a))
    assert (run_line.points, run_line.mrr_year_ago) == (25, Decimal("400.00"))

    # when
    html = what_if(
        cast,
        kind="sourced",
        mrr="900",
        currency="USD",
        country="GB",
        mrr_year_ago="250",
        currency_year_ago="GBP",
    )

    # then
    words = result(html)
    assert "over 250.00 GBP the same month a year ago (worth 400.00 USD for points)" in words
    assert "earns 25 points" in words


# --- Partners list -------------------------------------------------------------------------------


def test_a_pdm_lists_only_its_partners_with_tier_trend_and_risk(assessed: Cast) -> None:
    html = page(assessed.pdm, "/tiers/partners/")

    table = text(html.split('id="tier-partners"')[1])
    assert assessed.org_a.name in table
    assert assessed.org_b.name not in html
    assert "15 Mar 2026 180 ▲ +50 from 130" in table
    assert f'href="/partners/{assessed.org_a.pk}/tier/"' in html


def test_partner_ops_list_every_partner_and_filter_them(assessed: Cast) -> None:
    Organisation.objects.filter(pk=assessed.org_b.pk).update(tier="gold")
    services.tier_run(as_of=date(2026, 4, 15), actor=None)  # B keeps Gold, at risk

    everyone = text(page(assessed.ops, "/tiers/partners/"))
    at_risk = text(page(assessed.ops, "/tiers/partners/?at_risk=1"))
    gold = text(page(assessed.ops, "/tiers/partners/?tier=gold"))
    named = text(page(assessed.ops, "/tiers/partners/?q=alpha"))

    assert assessed.org_a.name in everyone
    assert assessed.org_b.name in everyone
    assert assessed.provider.name not in everyone  # providers have no tier
    assert "Bravo Builders Gold 15 Apr 2026 0 = unchanged At risk" in at_risk
    assert assessed.org_a.name not in at_risk
    assert (assessed.org_a.name not in gold, assessed.org_b.name in gold) == (True, True)
    assert (assessed.org_a.name in named, assessed.org_b.name not in named) == (True, True)


def test_partner_users_do_not_get_the_partners_list(cast: Cast) -> None:
    for person in (cast.admin_a, cast.member_b, cast.provider_admin):
        assert browser_as(person).get("/tiers/partners/").status_code == 403


def test_the_partners_list_is_paginated(cast: Cast) -> None:
    for n in range(views.PARTNERS_PAGE_SIZE + 3):
        OrganisationFactory(name=f"Zulu {n:03}", pdm=cast.pdm)

    second = page(cast.pdm, "/tiers/partners/?page=2")

    assert "Page 2 of 2" in second
    assert "Zulu 052" in second
    assert cast.org_a.name not in second


# --- Bounded queries -----------------------------------------------------------------------------

#: User, organisation (a partner user's own is the header's too), latest assessment, history,
#: rule-set targets, points by kind, first lines, currencies, product lines, lines count,
#: lines page, countries (12; the session is read from the cache); staff add the
#: second-factor check (13).
TIER_PAGE_QUERIES = 13
PARTNERS_LIST_QUERIES = 5


def _many_lines(cast: Cast, count: int) -> None:
    for n in range(count):
        line(cast.org_a, mrr="100.00", managed=True)
        if n % 3 == 0:
            line(cast.org_a, mrr="300.00", sold="sourced", country="BR")
    for as_of in (date(2026, 1, 15), FEBRUARY, MARCH):
        services.tier_run(as_of=as_of, actor=None)


@pytest.mark.parametrize("lines", [2, 80])
@pytest.mark.parametrize("who", ["member_a", "pdm", "ops"])
def test_the_tier_page_reads_a_bounded_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any, lines: int, who: str
) -> None:
    _many_lines(cast, lines)
    client = browser_as(cast.people()[who])
    url = tier_url(cast.org_a)
    query = "?kind=managed&q=customer&wi-kind=assisted&wi-mrr=1000&wi-currency=GBP&wi-country=GB"

    with django_assert_max_num_queries(TIER_PAGE_QUERIES):
        response = client.get(url + query)

    assert response.status_code == 200
    assert 'id="what-if-tier"' in response.content.decode()


@pytest.mark.parametrize("lines", [2, 80])
def test_the_lines_csv_reads_a_bounded_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any, lines: int
) -> None:
    _many_lines(cast, lines)
    client = browser_as(cast.admin_a)

    with django_assert_max_num_queries(6):
        rows = csv_rows(client.get(tier_url(cast.org_a, "lines.csv")))

    assert len(rows) >= lines


@pytest.mark.parametrize("partners", [2, 60])
@pytest.mark.parametrize("who", ["pdm", "ops"])
def test_the_partners_list_reads_a_bounded_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any, partners: int, who: str
) -> None:
    for n in range(partners):
        OrganisationFactory(name=f"Bulk {n:03}", pdm=cast.pdm)
    services.tier_run(as_of=FEBRUARY, actor=None)
    services.tier_run(as_of=MARCH, actor=None)
    client = browser_as(cast.people()[who])

    with django_assert_max_num_queries(PARTNERS_LIST_QUERIES):
        response = client.get("/tiers/partners/?at_risk=&tier=&q=")

    assert response.status_code == 200
    assert "Bulk 000" in response.content.decode()


def test_customers_of_other_partners_never_show_on_the_home_page(assessed: Cast) -> None:
    line(assessed.org_b, mrr="900.00", managed=True)
    services.tier_run(as_of=date(2026, 4, 15), actor=None)
    theirs = TierAssessment.objects.get(organisation=assessed.org_b, as_of=date(2026, 4, 15))
    (found,) = selectors.assessment_lines(theirs)
    customer = found.customer

    html = page(assessed.admin_a, "/")

    assert customer.domain not in html
    assert assessed.org_b.name not in html
