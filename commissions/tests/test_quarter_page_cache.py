"""Finance's quarter page keeps the rendered rows of a closed quarter's statements in the cache
(issue 13, speed under load): a warm page reads no statement, and a release, a payment or a
partner's new name shows at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissions.models import Statement
from partnerportal.core.models import Organisation
from tests.cast import Cast, browser_as

from .test_pages import april, closed_q1, text  # noqa: F401 (april: a fixture)

pytestmark = pytest.mark.django_db

URL = "/finance/quarters/2026-Q1/"


def _page(client: Any) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return text(response.content.decode())


def test_a_warm_quarter_page_reads_no_statement(cast: Cast, april: None) -> None:  # noqa: F811
    closed_q1(cast)
    client = browser_as(cast.finance)
    first = _page(client)

    with CaptureQueriesContext(connection) as queries:
        again = _page(client)

    assert again == first
    assert "Alpha Agency" in again
    assert "Bravo Builders" in again
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert 'FROM "commissions_statement"' not in read


def test_the_rows_follow_a_payment_a_release_and_a_new_name(cast: Cast, april: None) -> None:  # noqa: F811
    statements = closed_q1(cast)
    client = browser_as(cast.finance)
    before = _page(client)
    assert "TRX-2026-0415" not in before
    assert "Bravo Builders EUR 600.00 Held" in before

    paid = client.post(
        f"/finance/statements/{statements[cast.org_a.pk].pk}/paid/",
        {"payment_reference": "TRX-2026-0415", "paid_on": "2026-04-01"},
    )
    assert paid.status_code == 302
    assert "Paid on 1 Apr 2026 · TRX-2026-0415" in _page(client)

    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=True)
    released = client.post(f"/finance/statements/{statements[cast.org_b.pk].pk}/release/")
    assert released.status_code == 302
    assert Statement.objects.get(pk=statements[cast.org_b.pk].pk).status == "payable"
    assert "Bravo Builders EUR 600.00 Payable" in _page(client)

    # Renamed as any change outside a service is made: saved, so the data version changes
    # (core.versions; a raw UPDATE would have to call `versions.data_changed()` itself).
    cast.org_b.refresh_from_db()
    cast.org_b.name = "Bravo Renamed"
    cast.org_b.save(update_fields=["name"])
    renamed = _page(client)
    assert "Bravo Renamed EUR 600.00 Payable" in renamed
    assert "Bravo Builders" not in renamed


def test_a_filtered_page_shows_its_own_rows_and_fields(cast: Cast, april: None) -> None:  # noqa: F811
    closed_q1(cast)
    client = browser_as(cast.finance)
    _page(client)  # the unfiltered rows and fields, cached

    held = text(client.get(URL + "?status=held").content.decode())
    wrong = client.get(URL + "?status=nonsense").content.decode()

    assert "Bravo Builders" in held
    assert "Alpha Agency" not in held
    assert "is not a status: showing every status." in text(wrong)
