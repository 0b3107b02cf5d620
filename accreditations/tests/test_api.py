"""The accreditation API (SPEC 11): the academy's certification feed, applications with an
immediate decision, reads scoped to the caller, the board's decision and the review."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from accreditations.models import Accreditation, Certification
from partnerportal.core.models import AuditEvent, Organisation
from tests.cast import Cast, api_as

from .helpers import certify, clock_at, give_marks

pytestmark = pytest.mark.django_db


def cert_body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    body = {
        "partner": cast.org_a.pk,
        "code": "crm_implementation",
        "kind": "implementation",
        "holder_email": "Expert@Alpha.example",
        "expires_on": "2027-12-31",
    }
    body.update(overrides)
    return body


def test_the_certification_feed_is_idempotent_on_partner_code_and_holder(cast: Cast) -> None:
    client = api_as(cast.ops)
    first = client.post("/api/v1/certifications/", cert_body(cast), format="json")
    assert first.status_code == 201
    assert first.json()["holder_email"] == "expert@alpha.example"
    again = client.post(
        "/api/v1/certifications/",
        cert_body(cast, holder_email="EXPERT@alpha.example"),
        format="json",
    )
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    renewed = client.post(
        "/api/v1/certifications/", cert_body(cast, expires_on="2029-12-31"), format="json"
    )
    assert renewed.status_code == 200
    assert Certification.objects.get().expires_on == date(2029, 12, 31)
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="accreditations.certification").values_list(
            "verb", flat=True
        )
    )
    assert sorted(verbs) == [
        "accreditations.certification.changed",
        "accreditations.certification.recorded",
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "wizardry"}, "kind"),
        ({"code": "has space"}, "code"),
        ({"code": "x" * 61}, "code"),
        ({"holder_email": "not-an-email"}, "holder_email"),
        ({"expires_on": "2026-02-30"}, "expires_on"),
        ({"partner": 0}, "partner"),
        ({"partner": 2**63}, "partner"),
    ],
)
def test_a_bad_certification_is_a_400_naming_the_field(
    cast: Cast, overrides: dict[str, Any], field: str
) -> None:
    response = api_as(cast.ops).post(
        "/api/v1/certifications/", cert_body(cast, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_a_certification_for_an_unknown_partner_is_a_404(cast: Cast) -> None:
    response = api_as(cast.ops).post(
        "/api/v1/certifications/", cert_body(cast, partner=999_999), format="json"
    )
    assert response.status_code == 404


def test_a_partner_sees_only_its_own_certifications(cast: Cast) -> None:
    certify(cast.org_a, "crm_implementation")
    certify(cast.org_b, "onboarding")
    rows = api_as(cast.admin_b).get("/api/v1/certifications/").json()["results"]
    assert [r["code"] for r in rows] == ["onboarding"]
    narrowed = api_as(cast.admin_b).get(f"/api/v1/certifications/?partner={cast.org_a.pk}")
    assert narrowed.json()["results"] == []


@pytest.fixture
def platinum_a(cast: Cast) -> Cast:
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="platinum")
    certify(cast.org_a, "solutions_partner", "crm_implementation")
    return cast


def test_a_partner_admin_applying_gets_an_active_accreditation_for_two_years(
    platinum_a: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock_at(monkeypatch)(date(2026, 3, 1))
    response = api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["issued_on"], body["expires_on"], body["reasons"]) == (
        "active",
        "2026-03-01",
        "2028-03-01",
        [],
    )
    again = api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    assert again.status_code == 409


def test_an_application_the_rules_refuse_is_rejected_with_the_reasons(cast: Cast) -> None:
    certify(cast.org_a, "solutions_partner")
    response = api_as(cast.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["expires_on"]) == ("rejected", None)
    assert [r["code"] for r in body["reasons"]] == [
        "below_platinum",
        "missing_certification:crm_implementation",
    ]
    assert body["reasons"][1]["message"] == (
        "No current member of the team holds the CRM Implementation certification."
    )


def test_an_application_with_four_marks_goes_to_the_board(platinum_a: Cast) -> None:
    give_marks(platinum_a.org_a, 4, on=date(2026, 1, 1), by=platinum_a.ops)
    response = api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    assert response.json()["status"] == "board_review"
    accreditation = Accreditation.objects.get()
    decided = api_as(platinum_a.ops).post(
        f"/api/v1/accreditations/{accreditation.pk}/decision/",
        {
            "verdict": "refuse",
            "reason": "Repeated complaints",
            "director": "Dana Director",
            "director_approved_on": "2026-01-02",
        },
        format="json",
    )
    assert decided.status_code == 201
    assert decided.json()["accreditation"]["status"] == "rejected"
    twice = api_as(platinum_a.ops).post(
        f"/api/v1/accreditations/{accreditation.pk}/decision/",
        {"verdict": "grant", "reason": "x", "director": "D", "director_approved_on": "2026-01-02"},
        format="json",
    )
    assert twice.status_code == 409


def test_a_board_decision_needs_the_directors_approval(platinum_a: Cast) -> None:
    give_marks(platinum_a.org_a, 4, on=date(2026, 1, 1), by=platinum_a.ops)
    api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    accreditation = Accreditation.objects.get()
    response = api_as(platinum_a.ops).post(
        f"/api/v1/accreditations/{accreditation.pk}/decision/",
        {
            "verdict": "grant",
            "reason": "Fine",
            "director": "   ",
            "director_approved_on": "2026-01-02",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "director" in response.json()


def test_only_a_partner_admin_applies(cast: Cast) -> None:
    for person in (cast.member_a, cast.ops, cast.pdm):
        response = api_as(person).post(
            "/api/v1/accreditations/", {"kind": "onboarding"}, format="json"
        )
        assert response.status_code == 403
    bad = api_as(cast.admin_a).post("/api/v1/accreditations/", {"kind": "juggling"}, format="json")
    assert (bad.status_code, list(bad.json())) == (400, ["kind"])


def test_reads_are_scoped_ops_all_pdm_theirs_partner_its_own(platinum_a: Cast) -> None:
    api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    api_as(platinum_a.admin_b).post(
        "/api/v1/accreditations/", {"kind": "onboarding"}, format="json"
    )
    a = Accreditation.objects.get(organisation=platinum_a.org_a)
    b = Accreditation.objects.get(organisation=platinum_a.org_b)

    def ids(person: Any) -> list[int]:
        return [r["id"] for r in api_as(person).get("/api/v1/accreditations/").json()["results"]]

    assert sorted(ids(platinum_a.ops)) == sorted([a.pk, b.pk])
    assert ids(platinum_a.pdm) == [a.pk]
    assert ids(platinum_a.member_a) == [a.pk]
    assert ids(platinum_a.admin_b) == [b.pk]
    other = api_as(platinum_a.admin_b).get(f"/api/v1/accreditations/{a.pk}/")
    assert other.status_code == 404
    assert platinum_a.org_a.name not in other.content.decode()
    assert api_as(platinum_a.gs).get("/api/v1/accreditations/").status_code == 403


def test_the_review_endpoint_runs_a_review_date(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock_at(monkeypatch)(date(2026, 7, 20))
    response = api_as(cast.ops).post(
        "/api/v1/accreditation-reviews/", {"as_of": "2026-07-15"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["reviewed"] == 0
    refused = api_as(cast.ops).post(
        "/api/v1/accreditation-reviews/", {"as_of": "2026-07-14"}, format="json"
    )
    assert (refused.status_code, refused.json()["rule"]) == (400, ["not_a_review_date"])


def test_applying_tells_the_primary_contact_and_the_pdm_once(platinum_a: Cast) -> None:
    from partnerportal.core.models import Notification

    api_as(platinum_a.admin_a).post(
        "/api/v1/accreditations/", {"kind": "crm_implementation"}, format="json"
    )
    assert sorted(Notification.objects.values_list("to_email", flat=True)) == [
        platinum_a.admin_a.email,
        platinum_a.pdm.email,
    ]


def test_the_schema_describes_every_request_field(cast: Cast) -> None:
    schema = api_as(None).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert set(components["CertificationInRequest"]["properties"]) == {
        "partner",
        "code",
        "kind",
        "holder_email",
        "expires_on",
    }
    assert set(components["ApplyInRequest"]["properties"]) == {"kind"}
    assert set(components["ReviewRunInRequest"]["properties"]) == {"as_of"}
    assert set(components["BoardDecisionInRequest"]["properties"]) == {
        "verdict",
        "reason",
        "director",
        "director_approved_on",
    }
