"""The parts of the tier page and API that only a tier run changes are built once per
assessment and cached in Redis (issue 13): a warm page reads fewer queries, and a new run
(or a run for an earlier date made later) shows at once, never the previous entry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.cache import cache

from tests.cast import Cast, browser_as
from tiers import selectors, services
from tiers.models import TierAssessment
from tiers.tests.test_api import MARCH, line
from tiers.tests.test_pages import FEBRUARY, page, text, tier_url

pytestmark = pytest.mark.django_db

APRIL = date(2026, 4, 15)

#: A warm default view (no query: its body is cached whole; the session is read from the
#: cache): user, organisation (a partner user's own is the header's too), the latest
#: assessment's stamp (3); staff add the second-factor check (4).
WARM_TIER_PAGE_QUERIES = 4
#: A warm filtered view: user, second-factor check (staff), organisation, latest assessment,
#: currencies, product lines, countries, the lines' count and page (9).
WARM_FILTERED_QUERIES = 9


@pytest.fixture
def assessed(cast: Cast) -> Cast:
    """A's March figures: sourced USD 2 000 new (100), managed USD 5 000 (50): total 150."""
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="5000.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    return cast


@pytest.mark.parametrize("lines", [2, 120])
@pytest.mark.parametrize("who", ["member_a", "pdm", "ops"])
def test_a_warm_tier_page_reads_no_line_and_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any, lines: int, who: str
) -> None:
    for _ in range(lines):
        line(cast.org_a, mrr="100.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    client = browser_as(cast.people()[who])
    client.get(tier_url(cast.org_a))  # builds the assessment's summary and history

    with django_assert_max_num_queries(WARM_TIER_PAGE_QUERIES):
        response = client.get(tier_url(cast.org_a))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{lines} line{'s' if lines != 1 else ''}." in text(html)


def test_the_summary_is_built_once_per_assessment(assessed: Cast) -> None:
    latest = TierAssessment.objects.get(organisation=assessed.org_a, as_of=MARCH)

    first = selectors.assessment_summary(latest)
    again = selectors.assessment_summary(latest)

    assert first == again
    assert (first.points.sourced, first.points.managed, first.line_count) == (100, 50, 2)
    assert [line.kind for line in first.head] == ["managed", "sourced"]


def test_a_new_run_shows_at_once_on_the_page(assessed: Cast) -> None:
    before = page(assessed.member_a, tier_url(assessed.org_a))
    assert 'id="points-total">150<' in before
    # April: another managed customer (USD 3 000, worked on 1 March: 30 points).
    line(assessed.org_a, mrr="3000.00", managed=True)

    services.tier_run(as_of=APRIL, actor=None)

    after = page(assessed.member_a, tier_url(assessed.org_a))
    assert "Assessed on 15 Apr 2026" in text(after)
    assert 'id="points-total">180<' in after
    assert "3 lines." in text(after)


def test_a_run_for_an_earlier_date_made_later_shows_in_the_history(assessed: Cast) -> None:
    html = page(assessed.member_a, tier_url(assessed.org_a))
    assert "Assessment history (last 1)" in html

    services.tier_run(as_of=FEBRUARY, actor=None)

    html = page(assessed.member_a, tier_url(assessed.org_a))
    assert "Assessment history (last 2)" in html


def test_assessments_rebuilt_under_the_same_id_are_not_read_from_an_old_entry(
    assessed: Cast,
) -> None:
    """A database rebuilt against the same Redis reuses ids; the key carries the creation
    instant too, so an entry of the old assessment is never taken for the new one."""
    latest = TierAssessment.objects.get(organisation=assessed.org_a, as_of=MARCH)
    selectors.assessment_summary(latest)
    TierAssessment.objects.filter(pk=latest.pk).update(
        created_at=latest.created_at.replace(
            microsecond=(latest.created_at.microsecond + 1) % 10**6
        )
    )
    moved = TierAssessment.objects.get(pk=latest.pk)
    assert cache.get(selectors.cache_key("summary", latest)) is not None
    assert cache.get(selectors.cache_key("summary", moved)) is None

    selectors.assessment_summary(moved)

    assert cache.get(selectors.cache_key("summary", moved)) is not None


@pytest.mark.parametrize("who", ["member_a", "ops"])
def test_a_warm_filtered_view_reads_the_lines_but_not_the_summary(
    cast: Cast, django_assert_max_num_queries: Any, who: str
) -> None:
    for _ in range(60):
        line(cast.org_a, mrr="100.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)
    client = browser_as(cast.people()[who])
    url = tier_url(cast.org_a) + "?kind=managed&page=2"
    client.get(url)

    with django_assert_max_num_queries(WARM_FILTERED_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert "60 lines matching the filters." in text(response.content.decode())


def test_the_cached_default_view_follows_the_partners_facts(assessed: Cast) -> None:
    client = browser_as(assessed.member_a)
    first = client.get(tier_url(assessed.org_a)).content.decode()
    assert "Partner certification: yes" in text(first)

    assessed.org_a.has_partner_certification = False
    assessed.org_a.save(update_fields=["has_partner_certification"])

    again = text(client.get(tier_url(assessed.org_a)).content.decode())
    assert "Partner certification: missing" in again
    assert 'id="prerequisites"' in client.get(tier_url(assessed.org_a)).content.decode()


def test_staff_and_partner_users_get_their_own_links_from_the_cached_body(assessed: Cast) -> None:
    partner = page(assessed.member_a, tier_url(assessed.org_a))
    staff = page(assessed.ops, tier_url(assessed.org_a))
    partner_again = page(assessed.member_a, tier_url(assessed.org_a))

    assert "← Partner tiers" in staff
    assert "← Partner tiers" not in partner
    assert "← Home" in partner_again
    assert "← Partner tiers" not in partner_again


def test_a_filtered_view_after_the_default_one_shows_the_filtered_lines(assessed: Cast) -> None:
    client = browser_as(assessed.member_a)
    default = text(client.get(tier_url(assessed.org_a)).content.decode())
    assert "2 lines." in default

    filtered = text(client.get(tier_url(assessed.org_a) + "?kind=managed").content.decode())
    after_what_if = text(
        client.get(
            tier_url(assessed.org_a) + "?wi-kind=sourced&wi-mrr=3000&wi-currency=USD&wi-country=GB"
        ).content.decode()
    )

    assert "1 line matching the filters." in filtered
    assert "2 lines." in after_what_if
    assert "earns 150 points" in after_what_if
    assert "2 lines." in text(client.get(tier_url(assessed.org_a)).content.decode())
