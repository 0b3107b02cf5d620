"""Two runs of one date at once, on real PostgreSQL (each thread its own connection and
session, so each computes into its own temporary table): every partner is assessed exactly
once, with the same figures as a lone run, and both runs finish."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import F

from deals.tests.test_concurrency import together
from partnerportal.core.models import AuditEvent, Organisation
from tests.cast import Cast
from tests.factories import OrganisationFactory
from tiers import services
from tiers.models import TierAssessment, TierAssessmentLines, TierRun
from tiers.tests.test_api import MARCH, line

pytestmark = pytest.mark.usefixtures("committed_db")


def test_two_runs_of_one_date_at_once_assess_every_partner_once(cast: Cast) -> None:
    # given: partners with points, more than one chunk of them
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_b, mrr="700.00", managed=True)
    for _ in range(5):
        OrganisationFactory()
    partners = Organisation.objects.filter(kind=Organisation.Kind.PARTNER).count()

    # when
    first, second = together(
        lambda: services.tier_run(as_of=MARCH, actor=None, chunk_size=2),  # type: ignore[arg-type,return-value]
        lambda: services.tier_run(as_of=MARCH, actor=None, chunk_size=2),  # type: ignore[arg-type,return-value]
    )

    # then: each partner once, split between the runs, both finished
    assert first.partners_assessed + second.partners_assessed == partners  # type: ignore[attr-defined]
    assert TierAssessment.objects.filter(as_of=MARCH).count() == partners
    assert TierAssessmentLines.objects.count() == partners
    assert TierRun.objects.filter(finished_at__isnull=False).count() == 2
    assert TierAssessment.objects.get(organisation=cast.org_a).sourced_points == Decimal(100)
    assert TierAssessment.objects.get(organisation=cast.org_b).managed_points == Decimal(7)
    changes = TierAssessment.objects.exclude(tier_after=F("tier_before")).count()
    assert AuditEvent.objects.filter(verb="tiers.partner.retiered").count() == changes
