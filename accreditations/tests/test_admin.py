"""Partner ops edit the certifications each kind requires in the admin, through the audited
service; the rules then apply the new list."""

from __future__ import annotations

import pytest

from accreditations import selectors, services
from accreditations.models import AccreditationRequirement
from accreditations.rules import Kind
from partnerportal.core.errors import Forbidden, InvalidInput
from partnerportal.core.models import AuditEvent
from tests.cast import Cast, browser_as

pytestmark = pytest.mark.django_db


def test_partner_ops_edit_the_required_certifications_in_the_admin_audited(cast: Cast) -> None:
    url = "/admin/accreditations/accreditationrequirement/onboarding/change/"
    response = browser_as(cast.ops).post(
        url, {"certifications": "solutions_partner, onboarding, Inbound"}
    )
    assert response.status_code == 302, response.content[-500:]
    assert AccreditationRequirement.objects.get(kind="onboarding").certifications == [
        "inbound",
        "onboarding",
        "solutions_partner",
    ]
    assert selectors.requirements()["onboarding"] == ("inbound", "onboarding", "solutions_partner")
    event = AuditEvent.objects.get(verb="accreditations.requirements.changed")
    assert event.data["before"] == ["onboarding", "solutions_partner"]


def test_an_empty_or_bad_requirement_is_refused_on_its_field(cast: Cast) -> None:
    url = "/admin/accreditations/accreditationrequirement/onboarding/change/"
    response = browser_as(cast.ops).post(url, {"certifications": "two words"})
    assert response.status_code == 200
    assert "is not a certification code" in response.content.decode()
    with pytest.raises(InvalidInput):
        services.requirements_set(actor=cast.ops, kind=Kind.ONBOARDING, certifications=[" "])


def test_only_partner_ops_edit_requirements(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        services.requirements_set(actor=cast.pdm, kind=Kind.ONBOARDING, certifications=["x"])
