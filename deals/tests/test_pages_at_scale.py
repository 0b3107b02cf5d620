"""Deal pages at the vendor's scale (issue 13): the blank register and new-deal forms (their
country list was most of the page's rendering) are rendered once and kept a few minutes, keyed
by the country list's length; a submitted form is never served from, nor written to, that
copy."""

from __future__ import annotations

import pytest

from partnerportal.core.models import Country
from tests.cast import Cast, browser_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "url", "prefix"),
    [("admin_a", "/deals/", "id_"), ("gs", "/deals/workspace/", "id_new_")],
)
def test_the_blank_form_is_the_same_each_time_and_a_new_country_shows_at_once(
    cast: Cast, who: str, url: str, prefix: str
) -> None:
    client = browser_as(getattr(cast, who))
    first = client.get(url).content.decode()
    again = client.get(url).content.decode()
    assert f'id="{prefix}country"' in first
    assert first.count('<option value="GB"') == again.count('<option value="GB"') == 1

    Country.objects.create(code="ZZ", name="Zedland", region=Country.objects.get(code="GB").region)
    after = client.get(url).content.decode()
    assert '<option value="ZZ">Zedland</option>' in after


def test_a_refused_registration_keeps_its_input_and_the_next_blank_form_does_not(
    cast: Cast,
) -> None:
    client = browser_as(cast.admin_a)
    client.get("/deals/")  # the blank form, kept
    refused = client.post(
        "/deals/",
        {
            "customer_domain": "not a domain!",
            "customer_name": "Acme",
            "country": "GB",
            "segment": "smb",
        },
    )
    assert refused.status_code == 400
    assert 'value="not a domain!"' in refused.content.decode()
    blank = client.get("/deals/").content.decode()
    assert "not a domain!" not in blank
    assert "is not a valid domain name" not in blank
