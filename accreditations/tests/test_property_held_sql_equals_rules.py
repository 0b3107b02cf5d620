"""The tier run counts certifications held on a date in SQL (`selectors.team_certifications`,
one statement); the rule is `rules.held_on`. Hypothesis holds the two equal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accreditations import rules, selectors
from accreditations.models import Certification
from tests.factories import OrganisationFactory

AS_OF = date(2026, 7, 15)
expiries = st.one_of(
    st.none(), st.integers(min_value=-3, max_value=3).map(lambda d: AS_OF + timedelta(days=d))
)


class HeldCertificationsTest(TestCase):
    @settings(max_examples=30, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from(["software", "implementation", "program"]), expiries),
            max_size=8,
        )
    )
    def test_the_sql_count_equals_the_rule(self, rows: list[tuple[str, date | None]]) -> None:
        org = OrganisationFactory()
        for n, (kind, expiry) in enumerate(rows):
            Certification.objects.create(
                organisation=org,
                code=f"c{n}",
                kind=kind,
                holder_email="h@x.example",
                expires_on=expiry,
            )
        held = rules.held_on([(f"c{n}", e) for n, (_, e) in enumerate(rows)], on=AS_OF)
        counted = selectors.team_certifications(org_ids=[org.pk], as_of=AS_OF).get(org.pk)
        assert (counted.total if counted else 0) == len(held)
        by_kind = {
            k: sum(1 for n, (kind, _) in enumerate(rows) if kind == k and f"c{n}" in held)
            for k in ("software", "implementation")
        }
        assert (counted.software if counted else 0) == by_kind["software"]
        assert (counted.implementation if counted else 0) == by_kind["implementation"]
        assert selectors.held_codes(org_ids=[org.pk], as_of=AS_OF).get(org.pk, frozenset()) == held


pytestmark = pytest.mark.django_db
