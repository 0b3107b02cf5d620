"""Input beyond what the database holds, or beyond a free-text ceiling, on the deal pages: a 400
with the message on the field, the input kept, nothing written; never a 500 (issue 9). The API
side of the same cases is `test_api_bad_input.py`."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deals import services
from deals.models import Registration
from deals.tests.api_steps import snapshot
from tests.cast import Cast, browser_as

from .test_access_pages import quoted_deal, register, tied_deal

pytestmark = pytest.mark.django_db

MEGABYTE = "x" * 1_000_000
PRO_LINE = {
    "product_line": "marketing_hub",
    "edition": "professional",
    "seats": "3",
    "mrr": "800.00",
    "currency": "USD",
}


def _quote_form(**changes: str) -> dict[str, str]:
    data = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "expected_close_date": ""}
    for key, value in {**PRO_LINE, **changes}.items():
        data[f"lines-0-{key}"] = value
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mrr": "1e25"}, "Ensure that there are no more than 14 digits in total."),
        ({"mrr": "1000000000000"}, "no more than 12 digits before the decimal point"),
        ({"seats": str(2**70)}, "Ensure this value is less than or equal to 2147483647."),
        ({"seats": str(2**63)}, "Ensure this value is less than or equal to 2147483647."),
        ({"seats": "2.5"}, "Enter a whole number."),
        (
            {"discount_pct": "5", "discount_approval": MEGABYTE},
            "Ensure this value has at most 200 characters",
        ),
    ],
    ids=[
        "mrr-1e25",
        "mrr-too-many-digits",
        "seats-2**70",
        "seats-2**63",
        "seats-2.5",
        "approval-1MB",
    ],
)
def test_a_quote_line_beyond_its_column_is_a_400_on_its_row(
    cast: Cast, changes: dict[str, str], message: str
) -> None:
    mine = quoted_deal(cast, "acme.example")
    before = snapshot()
    response = browser_as(cast.gs).post(f"/deals/{mine.deal_id}/quote/", _quote_form(**changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mrr_marketing_hub", "1e25", "Ensure that there are no more than 14 digits in total."),
        ("purchase_domain", MEGABYTE, "Ensure this value has at most 300 characters"),
    ],
    ids=["mrr-1e25", "purchase-domain-1MB"],
)
def test_a_close_beyond_its_columns_is_a_400_on_the_field(
    cast: Cast, field: str, value: str, message: str
) -> None:
    mine = quoted_deal(cast, "acme.example")
    before = snapshot()
    data = {
        "purchase_domain": "acme.example",
        "close_date": timezone.localdate().isoformat(),
        "buy_marketing_hub": "on",
        "mrr_marketing_hub": "800.00",
        field: value,
    }
    response = browser_as(cast.gs).post(f"/deals/{mine.deal_id}/close/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot() == before


def test_a_megabyte_customer_name_is_a_400_at_registration_and_for_a_vendor_deal(
    cast: Cast,
) -> None:
    body = {"customer_domain": "acme.example", "country": "GB", "segment": "smb"}
    before = snapshot()
    for client, url in (
        (browser_as(cast.admin_a), "/deals/"),
        (browser_as(cast.gs), "/deals/new/"),
    ):
        response = client.post(url, {**body, "customer_name": MEGABYTE})
        assert response.status_code == 400, url
        assert "Ensure this value has at most 200 characters" in response.content.decode()
    assert snapshot() == before


def test_a_megabyte_question_and_answer_are_a_400(cast: Cast) -> None:
    mine = quoted_deal(cast, "acme.example")
    inquiry = services.inquiry_ask(actor=cast.gs, registration=mine, question="Budget?")
    before = snapshot()
    asked = browser_as(cast.gs).post(
        f"/deals/registrations/{mine.pk}/inquiries/", {"question": MEGABYTE}
    )
    answered = browser_as(cast.admin_a).post(
        f"/deals/inquiries/{inquiry.pk}/answer/", {"answer": MEGABYTE}
    )
    for response in (asked, answered):
        assert response.status_code == 400
        assert "Ensure this value has at most 10000 characters" in response.content.decode()
    assert snapshot() == before


def test_a_megabyte_tie_reason_is_a_400(cast: Cast) -> None:
    tie = tied_deal(cast, "tie.example")
    chosen = Registration.objects.get(deal=tie, organisation=cast.org_a)
    before = snapshot()
    for origin in ("ties", "deal"):
        response = browser_as(cast.ops).post(
            f"/deals/{tie.pk}/decide/",
            {"registration": chosen.pk, "reason": MEGABYTE, "from": origin},
        )
        assert response.status_code == 400, origin
        assert "Ensure this value has at most 4000 characters" in response.content.decode()
    assert snapshot() == before


def test_a_referral_beyond_an_id_is_a_400(cast: Cast) -> None:
    sourcing = register(cast.admin_a, "acme.example")
    response = browser_as(cast.admin_a).post(
        f"/deals/registrations/{sourcing.pk}/referral/", {"partner": str(2**70)}
    )
    assert response.status_code == 400
