"""Accreditation pages: the partner's own page (status, expiry, grace and its cause, what is
missing to apply, the Apply button), the PDM's view of its partners, the board's queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accreditations import services
from accreditations.models import Accreditation
from accreditations.rules import Kind
from partnerportal.core.models import Organisation
from tests.cast import Cast, browser_as

from .helpers import certify, clock_at, give_marks

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    return clock_at(monkeypatch)


def test_the_partner_page_shows_grace_its_cause_and_what_is_missing(
    cast: Cast, day: Callable[[date], None]
) -> None:
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="platinum")
    certify(cast.org_a, "solutions_partner", "crm_implementation")
    day(date(2026, 2, 2))
    services.accreditation_apply(actor=cast.admin_a, kind=Kind.CRM_IMPLEMENTATION)
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="gold")
    day(date(2026, 7, 15))
    services.review_run(as_of=date(2026, 7, 15), actor=None)

    body = browser_as(cast.member_a).get("/accreditations/").content.decode()

    assert "In grace" in body
    assert "in grace until the review of 15 Jan 2027" in body
    assert "valid until 2 Feb 2028" in body
    assert "Cause of the grace period:" in body
    assert "The partner&#x27;s tier is below Platinum." in body
    # What is missing for the kinds it does not hold; a member sees no Apply button.
    assert "No current member of the team holds the Onboarding certification." not in body
    assert "Apply for" not in body
    admin_page = browser_as(cast.admin_a).get("/accreditations/").content.decode()
    assert "Apply for Onboarding" in admin_page
    assert "Apply for CRM Implementation" not in admin_page  # held (in grace)
    assert "No current member of the team holds the Onboarding certification." in admin_page
    assert "below_platinum" not in admin_page


def test_the_team_certifications_are_listed_by_name_not_code(cast: Cast) -> None:
    certify(cast.org_a, "solutions_partner", "crm_implementation")

    body = browser_as(cast.member_a).get("/accreditations/").content.decode()

    assert "<td>Solutions Partner</td>" in body
    assert "<td>CRM Implementation</td>" in body
    assert "<td>solutions_partner</td>" not in body
    assert "<td>crm_implementation</td>" not in body


def test_applying_from_the_page_shows_the_reasons_of_a_rejection(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    response = client.post("/accreditations/apply/", {"kind": "data_migration"}, follow=True)
    body = response.content.decode()
    assert "Data Migration: your application was rejected." in body
    assert "No current member of the team holds the Data Migration certification." in body
    assert Accreditation.objects.get().status == "rejected"


def test_the_pdm_sees_only_its_partners_accreditations(cast: Cast) -> None:
    for admin in (cast.admin_a, cast.admin_b):
        services.accreditation_apply(actor=admin, kind=Kind.ONBOARDING)
    body = browser_as(cast.pdm).get("/accreditations/").content.decode()
    assert cast.org_a.name in body
    assert cast.org_b.name not in body


def test_the_board_decides_from_its_queue_with_the_directors_approval(cast: Cast) -> None:
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="platinum")
    certify(cast.org_a, "solutions_partner", "onboarding")
    give_marks(cast.org_a, 4, on=date(2026, 1, 1), by=cast.ops)
    accreditation = services.accreditation_apply(actor=cast.admin_a, kind=Kind.ONBOARDING)
    client = browser_as(cast.ops)
    queue = client.get("/accreditations/board/").content.decode()
    assert "4 marks on record (more than three)" in queue

    missing = client.post(
        f"/accreditations/{accreditation.pk}/decision/",
        {"verdict": "grant", "reason": "Remedied", "director_approved_on": "2026-01-05"},
    )
    assert missing.status_code == 400
    done = client.post(
        f"/accreditations/{accreditation.pk}/decision/",
        {
            "verdict": "grant",
            "reason": "Remedied",
            "director": "Dana Director",
            "director_approved_on": "2026-01-05",
        },
        follow=True,
    )
    assert "is active" in done.content.decode()
    assert "Nothing waits for the board." in done.content.decode()
    detail = client.get(f"/accreditations/{accreditation.pk}/").content.decode()
    assert "approved by Dana Director on 5 Jan 2026" in detail


def test_the_list_reads_a_fixed_number_of_queries(cast: Cast) -> None:
    client = browser_as(cast.ops)
    client.get("/accreditations/")
    counts = []
    for _ in range(2):
        for admin in (cast.admin_a, cast.admin_b):
            Accreditation.objects.filter(organisation=admin.organisation).update(status="revoked")
            services.accreditation_apply(actor=admin, kind=Kind.ONBOARDING)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/accreditations/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
