"""`core.sql.array_literal` round-trips through PostgreSQL; `core.audit.audit_many` writes one
row per subject in the caller's transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from partnerportal.core.audit import Audited, audit_many
from partnerportal.core.models import AuditEvent
from partnerportal.core.sql import array_literal
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def _round_trip(values: list[object], sql_type: str) -> list[object]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{sql_type}[]", [array_literal(values)])  # type: ignore[arg-type]
        return list(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("values", "sql_type"),
    [
        ([1, 2, 9_223_372_036_854_775_807, -5], "bigint"),
        ([Decimal("0.000000000001"), Decimal("-12.50"), Decimal("1E+3"), None], "numeric"),
        ([True, False, None], "boolean"),
        ([date(2026, 1, 15), None], "date"),
        (
            [
                'a "quoted", {braced} value',
                "back\\slash",
                "NULL",
                "",
                " spaced ",
                "née; DROP TABLE x",
                None,
            ],
            "text",
        ),
        ([], "text"),
    ],
)
def test_array_literals_read_back_unchanged(values: list[object], sql_type: str) -> None:
    assert _round_trip(values, sql_type) == values


def test_array_literals_refuse_what_they_cannot_write() -> None:
    with pytest.raises(TypeError):
        array_literal([object()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="cannot be stored"):
        array_literal([Decimal("NaN")])


def test_audit_many_writes_one_event_per_subject_in_one_insert() -> None:
    organisations = [OrganisationFactory() for _ in range(3)]

    with transaction.atomic():
        events = audit_many(
            actor=None,
            actor_label="scheduler",
            verb="test.batch",
            events=[
                Audited(subject=org, organisation=org, data={"n": i})
                for i, org in enumerate(organisations)
            ],
        )

    assert len(events) == 3
    stored = AuditEvent.objects.filter(verb="test.batch").order_by("id")
    assert [(e.subject_id, e.organisation_id, e.data, e.actor_label) for e in stored] == [
        (str(org.pk), org.pk, {"n": i}, "scheduler") for i, org in enumerate(organisations)
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_db")
def test_audit_many_must_run_inside_the_services_transaction() -> None:
    org = OrganisationFactory()

    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        audit_many(actor=None, verb="test.batch", events=[Audited(subject=org)])

    assert not AuditEvent.objects.filter(verb="test.batch").exists()
