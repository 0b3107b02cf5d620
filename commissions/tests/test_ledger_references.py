"""The ledger's references are held by the database, also through raw SQL (migration 0009):
a statement's new lines are checked at once by a trigger instead of by a foreign-key check
per line, and the parents a line names cannot be deleted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction

from commissions.models import Entitlement, LedgerLine
from partnerportal.core.models import Currency, Organisation
from tests.factories import OrganisationFactory

from .steps import accrue, sourced_line

pytestmark = pytest.mark.django_db

INSERT = """
INSERT INTO commissions_ledgerline
    (entitlement_id, organisation_id, month, version, kind, mrr, currency_id, amount,
     reverses_id, replaces_id, reason, run_id, created_at)
VALUES (%(entitlement)s, %(organisation)s, %(month)s, %(version)s, %(kind)s, 800, %(currency)s,
        %(amount)s, %(reverses)s, %(replaces)s, %(reason)s, %(run)s, now())
"""


@pytest.fixture
def line() -> LedgerLine:
    partner = OrganisationFactory()
    sourced_line(
        partner, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "800.00")]
    )
    accrue(date(2026, 1, 1))
    return LedgerLine.objects.get()


def values(line: LedgerLine, **changes: object) -> dict[str, object]:
    """A second, valid accrual line next to `line` (February), with `changes`."""
    return {
        "entitlement": line.entitlement_id,
        "organisation": line.organisation_id,
        "month": date(2026, 2, 1),
        "version": 1,
        "kind": "accrual",
        "currency": line.currency_id,
        "amount": D("160.00"),
        "reverses": None,
        "replaces": None,
        "reason": "",
        "run": line.run_id,
        **changes,
    }


def insert(params: dict[str, object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT, params)


def test_a_raw_insert_of_a_valid_line_is_accepted(line: LedgerLine) -> None:
    insert(values(line))
    assert LedgerLine.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entitlement": 987_654_321}, "its entitlement does not exist or is not its partner's"),
        ({"organisation": 987_654_321}, "its entitlement does not exist or is not its partner's"),
        ({"currency": "XXX"}, "its currency does not exist"),
        ({"run": 987_654_321}, "its accrual run does not exist"),
    ],
    ids=["entitlement", "partner", "currency", "run"],
)
def test_a_line_naming_a_missing_parent_is_refused_even_through_raw_sql(
    line: LedgerLine, change: dict[str, object], message: str
) -> None:
    with pytest.raises(DatabaseError, match=message):
        insert(values(line, **change))
    assert LedgerLine.objects.count() == 1


def test_a_line_of_another_partner_than_its_entitlements_is_refused(line: LedgerLine) -> None:
    other = OrganisationFactory()
    with pytest.raises(DatabaseError, match="is not its partner's"):
        insert(values(line, organisation=other.pk))
    assert LedgerLine.objects.count() == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("organisation_id", None), ("close_date", date(2025, 12, 1))],
    ids=["partner", "close date"],
)
def test_an_entitlement_keeps_its_partner_and_close_even_through_raw_sql(
    line: LedgerLine, column: str, value: object
) -> None:
    if value is None:
        value = OrganisationFactory().pk
    before = Entitlement.objects.values_list("organisation_id", "close_date").get()
    with (
        pytest.raises(DatabaseError, match="stays with the partner and the close"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE commissions_entitlement SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, line.entitlement_id],
        )
    assert Entitlement.objects.values_list("organisation_id", "close_date").get() == before


def test_one_bad_line_refuses_the_whole_statement(line: LedgerLine) -> None:
    good = values(line)
    bad = values(line, month=date(2026, 3, 1), entitlement=987_654_321)
    with (
        pytest.raises(DatabaseError, match="entitlement does not exist"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.executemany(INSERT, [good, bad])
    assert LedgerLine.objects.count() == 1


def test_a_reversal_must_name_a_line_of_its_own_entitlement_and_month(line: LedgerLine) -> None:
    other = OrganisationFactory()
    sourced_line(other, close_date=date(2026, 1, 20), billing=[(date(2026, 1, 1), None, "50")])
    accrue(date(2026, 1, 1))
    elsewhere = LedgerLine.objects.exclude(pk=line.pk).get()
    reversal = {"kind": "reversal", "amount": D("-160.00"), "reason": "test", "version": 1}
    for target in (987_654_321, elsewhere.pk):
        with pytest.raises(DatabaseError, match="not a line of its entitlement and month"):
            insert(values(line, month=line.month, reverses=target, **reversal))
    insert(values(line, month=line.month, reverses=line.pk, **reversal))
    assert LedgerLine.objects.filter(reverses=line).count() == 1


def test_a_line_is_reversed_at_most_once(line: LedgerLine) -> None:
    reversal = {"kind": "reversal", "amount": D("-160.00"), "reason": "test", "version": 1}
    insert(values(line, month=line.month, reverses=line.pk, **reversal))
    with pytest.raises(DatabaseError, match="ledger_reverses_once"):
        insert(values(line, month=line.month, reverses=line.pk, **{**reversal, "version": 2}))


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("commissions_entitlement", "id"),
        ("commissions_accrualrun", "id"),
        ("core_organisation", "id"),
        ("core_currency", "code"),
    ],
)
def test_a_parent_a_line_names_cannot_be_deleted_even_through_raw_sql(
    line: LedgerLine, table: str, key: str
) -> None:
    value = {
        "commissions_entitlement": line.entitlement_id,
        "commissions_accrualrun": line.run_id,
        "core_organisation": line.organisation_id,
        "core_currency": line.currency_id,
    }[table]
    with (
        pytest.raises(DatabaseError, match="referred to by ledger lines"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The other tables' own constraints are deferred to commit; this check is not.
        cursor.execute(f"DELETE FROM {table} WHERE {key} = %s", [value])  # noqa: S608
    assert Entitlement.objects.filter(pk=line.entitlement_id).exists()
    assert Organisation.objects.filter(pk=line.organisation_id).exists()
    assert Currency.objects.filter(code=line.currency_id).exists()


def test_a_parent_no_line_names_can_still_be_deleted(line: LedgerLine) -> None:
    unused = Currency.objects.create(code="XTS", name="Testing", points_amount=D("100.00"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_currency WHERE code = %s", [unused.code])
    assert not Currency.objects.filter(code="XTS").exists()
