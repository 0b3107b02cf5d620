"""The Upmarket Referral rule-set data (SPEC 7: thresholds by period and country, countries
exempt from the accreditation) is edited in the admin through commissions' services: every
add, change and delete is checked, written and audited in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from commissions.models import AccreditationExemptCountry, UpmarketThreshold
from commissions.services import rule_sets
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, browser_as

pytestmark = pytest.mark.django_db
THRESHOLDS = "/admin/commissions/upmarketthreshold/"
EXEMPT = "/admin/commissions/accreditationexemptcountry/"


def _post(cast: Cast, url: str, data: dict[str, object]) -> object:
    return browser_as(cast.ops).post(url, {**data, "_save": "Save"})


def test_a_threshold_added_in_the_admin_is_written_and_audited(cast: Cast) -> None:
    response = _post(
        cast,
        f"{THRESHOLDS}add/",
        {
            "effective_from": "2027-01-01",
            "effective_until": "2027-07-01",
            "countries": "mx, br",
            "usd": "1500",
            "note": "2027 pilot",
        },
    )
    assert response.status_code == 302, response.content[:800]  # type: ignore[attr-defined]
    row = UpmarketThreshold.objects.get(note="2027 pilot")
    assert (row.effective_from, row.effective_until, row.countries, row.usd) == (
        date(2027, 1, 1),
        date(2027, 7, 1),
        ["BR", "MX"],
        Decimal("1500.00"),
    )
    event = AuditEvent.objects.get(verb="commissions.upmarket_threshold.created")
    assert (event.actor, event.subject_id) == (cast.ops, str(row.pk))
    assert event.data["changes"]["usd"] == [None, "1500.00"]
    assert event.data["changes"]["countries"] == [None, ["BR", "MX"]]


def test_a_threshold_changed_in_the_admin_is_audited_with_what_changed(cast: Cast) -> None:
    standing = UpmarketThreshold.objects.get(usd=3000)
    response = _post(
        cast,
        f"{THRESHOLDS}{standing.pk}/change/",
        {
            "effective_from": standing.effective_from.isoformat(),
            "effective_until": "",
            "countries": "",
            "usd": "3500.00",
            "note": standing.note,
        },
    )
    assert response.status_code == 302, response.content[:800]  # type: ignore[attr-defined]
    standing.refresh_from_db()
    assert standing.usd == Decimal("3500.00")
    event = AuditEvent.objects.get(verb="commissions.upmarket_threshold.updated")
    assert event.data == {"id": standing.pk, "changes": {"usd": ["3000.00", "3500.00"]}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("usd", "0"),
        ("usd", "-100"),
        ("usd", "12.345"),
        ("effective_until", "2026-12-31"),  # not after the first day
        ("countries", "BR, XX"),
    ],
)
def test_a_bad_threshold_is_refused_on_its_field_without_a_write(
    cast: Cast, field: str, value: str
) -> None:
    before = list(UpmarketThreshold.objects.values_list("pk", "usd"))
    data = {"effective_from": "2027-01-01", "countries": "", "usd": "1000", "note": "x"}
    response = _post(cast, f"{THRESHOLDS}add/", {**data, field: value})
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.context["adminform"].form.errors[field]  # type: ignore[attr-defined]
    assert list(UpmarketThreshold.objects.values_list("pk", "usd")) == before
    assert not AuditEvent.objects.exists()


def test_a_threshold_deleted_in_the_admin_is_audited_with_what_it_said(cast: Cast) -> None:
    pilot = UpmarketThreshold.objects.get(usd=1000)
    response = browser_as(cast.ops).post(f"{THRESHOLDS}{pilot.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:800]
    assert not UpmarketThreshold.objects.filter(pk=pilot.pk).exists()
    event = AuditEvent.objects.get(verb="commissions.upmarket_threshold.deleted")
    assert event.data["was"]["usd"] == "1000.00"
    assert event.data["was"]["effective_until"] == "2025-07-01"


def test_an_exempt_country_added_changed_and_removed_in_the_admin_is_audited(
    cast: Cast,
) -> None:
    assert _post(cast, f"{EXEMPT}add/", {"country": "KE"}).status_code == 302  # type: ignore[attr-defined]
    row = AccreditationExemptCountry.objects.get()
    assert row.country_id == "KE"
    again = _post(cast, f"{EXEMPT}add/", {"country": "KE"})
    assert again.status_code == 200  # type: ignore[attr-defined]  # already exempt: refused
    assert _post(cast, f"{EXEMPT}{row.pk}/change/", {"country": "NG"}).status_code == 302  # type: ignore[attr-defined]
    deleted = browser_as(cast.ops).post(f"{EXEMPT}{row.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not AccreditationExemptCountry.objects.exists()
    events = [
        (e.verb, e.data.get("changes") or e.data.get("was"))
        for e in AuditEvent.objects.order_by("id")
    ]
    assert events == [
        ("commissions.exempt_country.created", {"country": [None, "KE"]}),
        ("commissions.exempt_country.updated", {"country": ["KE", "NG"]}),
        ("commissions.exempt_country.deleted", {"country": "NG"}),
    ]


def test_partner_ops_and_finance_edit_the_rule_set_and_no_one_else(cast: Cast) -> None:
    for someone in (cast.pdm, cast.gs, cast.admin_a):
        with pytest.raises(Forbidden):
            rule_sets.exempt_country_save(actor=someone, exempt_id=None, country="KE")
    row, created = rule_sets.exempt_country_save(actor=cast.finance, exempt_id=None, country="ke")
    assert (row.country_id, created) == ("KE", True)
    with pytest.raises(InvalidInput) as refused:
        rule_sets.exempt_country_save(actor=cast.ops, exempt_id=None, country="KE")
    assert list(refused.value.errors) == ["country"]
    assert AuditEvent.objects.filter(verb="commissions.exempt_country.created").count() == 1


def test_a_partner_user_cannot_open_the_rule_set_admin(cast: Cast) -> None:
    response = browser_as(cast.admin_a).get(THRESHOLDS)
    assert response.status_code in (302, 403)
    assert AccreditationExemptCountry.objects.count() == 0
