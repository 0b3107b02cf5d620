"""The demo: accreditations active, in grace and revoked, and the Elite demo partner's 100
certifications (its Elite assessment is checked in tiers/tests/test_demo_elite.py)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accreditations.models import Accreditation, AccreditationReview, Certification
from partnerportal.core.models import AuditEvent, Organisation

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_accreditations_and_an_elite_partner_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo")
    out = capsys.readouterr().out

    summit = Organisation.objects.get(name="Summit Partners")
    assert summit.tier == "elite", out
    assert Certification.objects.filter(organisation=summit).count() == 100
    statuses = dict(Accreditation.objects.values_list("organisation__name", "status"))
    assert statuses == {
        "Summit Partners": "active",
        "Northwind Digital": "grace",
        "Bluepeak Agency": "revoked",
    }
    assert AccreditationReview.objects.filter(outcome="revoked").count() == 1

    counts = (
        Accreditation.objects.count(),
        Certification.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo")
    again = capsys.readouterr().out
    assert "Demo accreditations already exist: nothing to do." in again
    assert (
        Accreditation.objects.count(),
        Certification.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
