"""The blank customer forms ("Register a deal", "New vendor-owned deal") are rendered once and
kept (issue 13, speed under load): a warm page reads no country, and a country added, renamed
or removed shows at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerportal.core.models import Country, Region
from tests.cast import Cast, browser_as

pytestmark = pytest.mark.django_db

PAGES = [("admin_a", "/deals/"), ("gs", "/deals/workspace/")]


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_a_warm_page_reads_no_country(cast: Cast, who: str, url: str) -> None:
    client = browser_as(getattr(cast, who))
    first = client.get(url)
    assert first.status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)

    assert again.status_code == 200
    assert 'name="country"' in again.content.decode()
    assert not [q for q in queries.captured_queries if "core_country" in q["sql"]]


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_the_blank_form_follows_the_countries(cast: Cast, who: str, url: str) -> None:
    client = browser_as(getattr(cast, who))
    assert "Zedland" not in client.get(url).content.decode()  # rendered and kept

    country = Country.objects.create(code="ZZ", name="Zedland", region=Region.EMEA)
    assert '<option value="ZZ">Zedland</option>' in client.get(url).content.decode()

    country.name = "Zedland Republic"
    country.save()
    assert '<option value="ZZ">Zedland Republic</option>' in client.get(url).content.decode()

    country.delete()
    assert "Zedland" not in client.get(url).content.decode()
