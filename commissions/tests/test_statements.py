"""Quarterly statements (SPEC 7) through the services: the close, held statements and their
release, payment, idempotence, a closed quarter that never changes (late lines land in the next
close as prior-period adjustments), and the database refusing edits of a closed quarter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from commissions import rules, selectors, services
from commissions.models import LedgerLine, QuarterClose, Statement, StatementLine
from deals.tests.api_steps import start_clock
from partnerportal.core.errors import Forbidden, InvalidInput, NotFound, StateConflict
from partnerportal.core.models import AuditEvent, Organisation
from tests.cast import Cast
from tests.factories import OrganisationFactory

from .steps import accrue, close, hold, rebill, sourced_line, statement_rows

D = Decimal
pytestmark = pytest.mark.django_db
Q1 = rules.parse_quarter("2026-Q1")


def usd_800(partner: Organisation, *, currency: str = "USD", domain: str | None = None) -> object:
    """SPEC 7's worked example: Marketing Hub Professional at 800 a month from January 2026."""
    return sourced_line(
        partner,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), None, "800.00")],
        currency=currency,
        domain=domain,
    )


def test_usd_800_makes_a_statement_of_480_for_the_quarter_payable_on_15_may(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """800 x 20 % = 160 a month; January to March = 3 x 160 = 480; the quarter ends on
    31 March, + 45 days = 15 May 2026."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    usd_800(partner)
    accrue(date(2026, 3, 1))
    result = close("2026-Q1")
    statement = Statement.objects.get()
    assert (result.created, result.statements, result.lines) == (True, 1, 3)
    assert (statement.organisation, statement.quarter, statement.currency_id) == (
        partner,
        "2026-Q1",
        "USD",
    )
    assert (statement.total, statement.prior_period_total) == (D("480.00"), D("0.00"))
    assert statement.payable_on == date(2026, 5, 15)
    assert (statement.status, statement.held_reasons) == ("payable", [])
    assert [(x.month, x.amount, x.prior_period) for x in statement.lines.all()] == [
        (date(2026, 1, 1), D("160.00"), False),
        (date(2026, 2, 1), D("160.00"), False),
        (date(2026, 3, 1), D("160.00"), False),
    ]
    close_row = QuarterClose.objects.get()
    assert (close_row.quarter, close_row.starts_on, close_row.ends_on) == (
        "2026-Q1",
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert (close_row.statements, close_row.lines, close_row.closed_by) == (1, 3, None)


def test_closing_a_quarter_twice_adds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    usd_800(OrganisationFactory())
    accrue(date(2026, 3, 1))
    first = close("2026-Q1")
    before = statement_rows()
    second = close("2026-Q1")
    assert (second.created, second.close.pk) == (False, first.close.pk)
    assert (second.statements, second.lines) == (1, 3)
    assert statement_rows() == before
    assert QuarterClose.objects.count() == 1
    assert AuditEvent.objects.filter(verb="commissions.quarter.closed").count() == 1


def test_a_quarter_not_ended_yet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = start_clock(monkeypatch, "2026-03-31T23:00:00")
    usd_800(OrganisationFactory())
    accrue(date(2026, 3, 1))
    with pytest.raises(StateConflict, match="2026-04-01"):
        close("2026-Q1")
    with pytest.raises(StateConflict):
        services.preview_quarter(actor=None, quarter=Q1)
    assert not QuarterClose.objects.exists()
    clock.set(clock.moment.replace(month=4, day=1, hour=0))
    assert close("2026-Q1").created


def test_a_statement_per_partner_and_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    """Amounts are per currency: USD 800 -> 480; EUR 800 -> 480 in EUR; another partner's
    USD 50 -> 3 x 10 = 30."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    alpha, bravo = OrganisationFactory(name="Alpha"), OrganisationFactory(name="Bravo")
    usd_800(alpha)
    usd_800(alpha, currency="EUR")
    sourced_line(bravo, close_date=date(2026, 1, 12), billing=[(date(2026, 1, 1), None, "50.00")])
    accrue(date(2026, 3, 1))
    result = close("2026-Q1")
    rows = {
        (s.organisation.name, s.currency_id): s.total
        for s in Statement.objects.select_related("organisation")
    }
    assert rows == {
        ("Alpha", "EUR"): D("480.00"),
        ("Alpha", "USD"): D("480.00"),
        ("Bravo", "USD"): D("30.00"),
    }
    assert (result.statements, result.lines) == (3, 9)
    totals = services.preview_quarter(actor=None, quarter=Q1).totals
    assert [(t.status, t.currency, t.statements, t.amount) for t in totals] == [
        ("payable", "EUR", 1, D("480.00")),
        ("payable", "USD", 2, D("510.00")),
    ]


@pytest.mark.parametrize(
    ("paperwork", "standing", "reasons"),
    [
        (False, "good", ["payout_paperwork"]),
        (True, "warned", ["standing"]),
        (True, "suspended", ["standing"]),
        (False, "terminated", ["payout_paperwork", "standing"]),
    ],
)
def test_a_statement_is_held_while_paperwork_is_missing_or_standing_is_not_good(
    monkeypatch: pytest.MonkeyPatch, paperwork: bool, standing: str, reasons: list[str]
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    usd_800(partner)
    accrue(date(2026, 3, 1))
    hold(partner, paperwork=paperwork, standing=standing)
    close("2026-Q1")
    statement = Statement.objects.get()
    assert (statement.status, statement.held_reasons, statement.total) == (
        "held",
        reasons,
        D("480.00"),
    )


def test_a_held_statement_is_released_once_its_cause_is_gone_and_not_before(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    hold(cast.org_a, paperwork=False)
    close("2026-Q1")
    statement = Statement.objects.get()
    with pytest.raises(StateConflict, match="payout paperwork is incomplete"):
        services.release_statement(actor=cast.finance, statement_id=statement.pk)
    # The paperwork arrives, but meanwhile the partner was warned: still held, for standing.
    hold(cast.org_a, paperwork=True, standing="warned")
    with pytest.raises(StateConflict, match="not in good standing"):
        services.release_statement(actor=cast.finance, statement_id=statement.pk)
    assert Statement.objects.get().status == "held"
    hold(cast.org_a, paperwork=True, standing="good")
    released = services.release_statement(actor=cast.finance, statement_id=statement.pk)
    assert (released.status, released.held_reasons, released.total) == (
        "payable",
        [],
        D("480.00"),
    )
    assert released.released_at is not None
    event = AuditEvent.objects.get(verb="commissions.statement.released")
    assert (event.actor, event.data["held_reasons"]) == (cast.finance, ["payout_paperwork"])
    with pytest.raises(StateConflict, match="payable"):
        services.release_statement(actor=cast.finance, statement_id=statement.pk)


def test_finance_marks_a_payable_statement_paid_with_its_reference(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    statement = Statement.objects.get()
    paid = services.mark_statement_paid(
        actor=cast.finance,
        statement_id=statement.pk,
        payment_reference="  ACH-2026-0515-001 ",
        paid_on=date(2026, 5, 15),
    )
    assert (paid.status, paid.payment_reference, paid.paid_on, paid.total) == (
        "paid",
        "ACH-2026-0515-001",
        date(2026, 5, 15),
        D("480.00"),
    )
    event = AuditEvent.objects.get(verb="commissions.statement.paid")
    assert (event.actor, event.data["payment_reference"], event.data["total"]) == (
        cast.finance,
        "ACH-2026-0515-001",
        "480.00",
    )
    with pytest.raises(StateConflict, match="already paid on 2026-05-15"):
        services.mark_statement_paid(
            actor=cast.finance,
            statement_id=statement.pk,
            payment_reference="again",
            paid_on=date(2026, 5, 16),
        )


@pytest.mark.parametrize(
    ("reference", "paid_on", "field"),
    [
        ("", date(2026, 5, 15), "payment_reference"),
        ("   ", date(2026, 5, 15), "payment_reference"),
        ("x" * 101, date(2026, 5, 15), "payment_reference"),
        ("ACH-1", date(2026, 3, 30), "paid_on"),  # before the quarter ended
        ("ACH-1", date(2026, 5, 21), "paid_on"),  # tomorrow
    ],
)
def test_a_payment_needs_a_reference_and_a_date_between_quarter_end_and_today(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, reference: str, paid_on: date, field: str
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    statement = Statement.objects.get()
    with pytest.raises(InvalidInput) as refused:
        services.mark_statement_paid(
            actor=cast.finance,
            statement_id=statement.pk,
            payment_reference=reference,
            paid_on=paid_on,
        )
    assert refused.value.field == field
    assert Statement.objects.get().status == "payable"


def test_a_held_statement_is_not_paid_before_its_release(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    hold(cast.org_a, standing="suspended")
    close("2026-Q1")
    statement = Statement.objects.get()
    with pytest.raises(StateConflict, match="release it first"):
        services.mark_statement_paid(
            actor=cast.finance,
            statement_id=statement.pk,
            payment_reference="ACH-1",
            paid_on=date(2026, 5, 15),
        )


def test_a_billing_correction_after_the_close_lands_in_the_next_quarter_as_prior_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Q1 closed with 3 x 160 = 480. Billing is then corrected: from 1 March the line was at
    1 000 (backdated). The next run reverses March's 160 and replaces it with 200; Q1's
    statement stays 480. Q2's close takes the reversal (-160) and the replacement (+200) as
    prior-period lines (+40) and April to June at 200 each (600): 640, of which 40 prior."""
    clock = start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    association = usd_800(partner)
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    q1 = statement_rows()
    clock.set(clock.moment.replace(month=7, day=2))
    rebill(
        association,
        [(date(2026, 1, 1), date(2026, 3, 1), "800.00"), (date(2026, 3, 1), None, "1000.00")],
    )
    accrue(date(2026, 6, 1))
    close("2026-Q2")
    assert statement_rows()[0] == q1[0]
    q2 = Statement.objects.get(quarter="2026-Q2")
    assert (q2.total, q2.prior_period_total) == (D("640.00"), D("40.00"))
    lines = [
        (x.month, x.ledger_line.kind, x.amount, x.prior_period)
        for x in q2.lines.select_related("ledger_line").order_by("month", "amount")
    ]
    assert lines == [
        (date(2026, 3, 1), "reversal", D("-160.00"), True),
        (date(2026, 3, 1), "accrual", D("200.00"), True),
        (date(2026, 4, 1), "accrual", D("200.00"), False),
        (date(2026, 5, 1), "accrual", D("200.00"), False),
        (date(2026, 6, 1), "accrual", D("200.00"), False),
    ]
    reversal = LedgerLine.objects.get(kind="reversal")
    assert reversal.reverses.statement_line.statement.quarter == "2026-Q1"
    # Every ledger line is on exactly one statement: nothing is paid twice.
    assert StatementLine.objects.count() == LedgerLine.objects.count() == 3 + 2 + 3


def test_a_reversal_within_the_quarter_nets_the_statement_to_exactly_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """January accrued 333.33 x 20 % = 66.67; billing then says the line was never billed
    (backdated to nothing): the reversal -66.67 lands on the same statement, which is 0.00."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    association = sourced_line(
        partner,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), date(2026, 2, 1), "333.33")],
    )
    accrue(date(2026, 1, 1))
    rebill(association, [])
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    statement = Statement.objects.get()
    assert statement.total == D("0.00")
    assert sorted(x.amount for x in statement.lines.all()) == [D("-66.67"), D("66.67")]


def test_a_late_line_of_a_closed_quarter_that_nets_to_zero_adds_a_zero_prior_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Q1 closed with January only (66.67). January is then un-billed: the reversal -66.67 is
    a prior-period line of Q2's statement, the only line there: total -66.67, all prior."""
    clock = start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    association = sourced_line(
        partner,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), date(2026, 2, 1), "333.33")],
    )
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    clock.set(clock.moment.replace(month=7, day=2))
    rebill(association, [])
    accrue(date(2026, 6, 1))
    close("2026-Q2")
    q2 = Statement.objects.get(quarter="2026-Q2")
    assert (q2.total, q2.prior_period_total) == (D("-66.67"), D("-66.67"))
    january = LedgerLine.objects.filter(month=date(2026, 1, 1))
    assert sum(x.amount for x in january) == D("0.00")


def test_lines_of_an_earlier_quarter_not_closed_wait_for_their_own_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start_clock(monkeypatch, "2026-10-02T08:00:00")
    usd_800(OrganisationFactory())
    accrue(date(2026, 9, 1))
    close("2026-Q2")  # Q1 not closed: its lines wait; Q3's months are later: not taken
    q2 = Statement.objects.get()
    assert (q2.total, q2.prior_period_total) == (D("480.00"), D("0.00"))
    assert {x.month for x in q2.lines.all()} == {
        date(2026, 4, 1),
        date(2026, 5, 1),
        date(2026, 6, 1),
    }
    close("2026-Q1")
    q1 = Statement.objects.get(quarter="2026-Q1")
    assert (q1.total, q1.prior_period_total) == (D("480.00"), D("0.00"))
    close("2026-Q3")
    assert Statement.objects.get(quarter="2026-Q3").total == D("480.00")


def test_a_closed_quarter_cannot_be_changed_at_the_database_even_through_raw_sql(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    hold(cast.org_a, paperwork=False)
    result = close("2026-Q1")
    statement = Statement.objects.get()
    line = StatementLine.objects.first()
    assert line is not None
    refused = [
        ("UPDATE commissions_statementline SET amount = 0 WHERE id = %s", line.pk),
        ("UPDATE commissions_statementline SET prior_period = true WHERE id = %s", line.pk),
        ("DELETE FROM commissions_statementline WHERE id = %s", line.pk),
        ("UPDATE commissions_statement SET total = 0 WHERE id = %s", statement.pk),
        ("UPDATE commissions_statement SET prior_period_total = 1 WHERE id = %s", statement.pk),
        ("UPDATE commissions_statement SET payable_on = '2026-04-01' WHERE id = %s", statement.pk),
        ("DELETE FROM commissions_statement WHERE id = %s", statement.pk),
        ("DELETE FROM commissions_quarterclose WHERE id = %s", result.close.pk),
    ]
    for sql, pk in refused:
        with pytest.raises(DatabaseError, match=r"immutable|never change"), transaction.atomic():
            connection.cursor().execute(sql, [pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(total=D("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        StatementLine.objects.filter(pk=line.pk).delete()
    # Its status moves through the services.
    hold(cast.org_a, paperwork=True)
    services.release_statement(actor=cast.finance, statement_id=statement.pk)
    services.mark_statement_paid(
        actor=cast.finance,
        statement_id=statement.pk,
        payment_reference="ACH-7",
        paid_on=date(2026, 5, 15),
    )
    after = Statement.objects.get()
    assert (after.status, after.total, after.lines.count()) == ("paid", D("480.00"), 3)


def test_the_close_is_audited(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    result = services.close_quarter(actor=cast.finance, quarter=Q1)
    assert result.close.closed_by == cast.finance
    event = AuditEvent.objects.get(verb="commissions.quarter.closed")
    assert (event.actor, event.subject_id, event.data["statements"], event.data["lines"]) == (
        cast.finance,
        str(result.close.pk),
        1,
        3,
    )
    assert event.data["totals"] == [
        {"status": "payable", "currency": "USD", "statements": 1, "amount": "480.00"}
    ]


def test_the_preview_writes_nothing_and_shows_what_the_close_makes(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    usd_800(cast.org_a)
    usd_800(cast.org_b)
    accrue(date(2026, 3, 1))
    hold(cast.org_b, paperwork=False)
    before = _every_table()
    preview = services.preview_quarter(actor=cast.finance, quarter=Q1)
    assert _every_table() == before
    assert preview.already_closed is False
    assert [
        (s.organisation_name, s.currency, s.total, s.lines, s.status, s.held_reasons)
        for s in preview.statements
    ] == [
        ("Alpha Agency", "USD", D("480.00"), 3, "payable", []),
        ("Bravo Builders", "USD", D("480.00"), 3, "held", ["payout_paperwork"]),
    ]
    assert [(t.status, t.currency, t.statements, t.amount) for t in preview.totals] == [
        ("held", "USD", 1, D("480.00")),
        ("payable", "USD", 1, D("480.00")),
    ]
    services.close_quarter(actor=cast.finance, quarter=Q1)
    after = services.preview_quarter(actor=cast.finance, quarter=Q1)
    assert after.already_closed is True
    assert after.statements == preview.statements
    assert after.totals == preview.totals


def _every_table() -> dict[str, str]:
    """Every table's rows, hashed: a write anywhere changes one."""
    result = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            rows = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            cursor.execute(f'SELECT count(*), {rows} FROM "{table}" t')  # noqa: S608
            result[table] = str(cursor.fetchone())
    return result


@pytest.mark.parametrize("who", ["admin_a", "member_a", "gs", "pdm", "ops"])
def test_only_finance_previews_closes_releases_and_pays(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    user = cast.people()[who]
    with pytest.raises(Forbidden):
        services.preview_quarter(actor=user, quarter=Q1)
    with pytest.raises(Forbidden):
        services.close_quarter(actor=user, quarter=Q1)
    hold(cast.org_a, paperwork=False)
    close("2026-Q1")
    hold(cast.org_a, paperwork=True)
    statement = Statement.objects.get()
    with pytest.raises(Forbidden):
        services.release_statement(actor=user, statement_id=statement.pk)
    with pytest.raises(Forbidden):
        services.mark_statement_paid(
            actor=user, statement_id=statement.pk, payment_reference="X", paid_on=date(2026, 5, 15)
        )
    assert Statement.objects.get().status == "held"


@pytest.mark.parametrize("who", ["admin_b", "member_b", "provider_admin"])
def test_another_partners_statement_is_not_found(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    start_clock(monkeypatch, "2026-05-20T08:00:00")
    usd_800(cast.org_a)
    accrue(date(2026, 3, 1))
    close("2026-Q1")
    statement = Statement.objects.get()
    user = cast.people()[who]
    with pytest.raises(NotFound):
        services.release_statement(actor=user, statement_id=statement.pk)
    with pytest.raises(NotFound):
        services.mark_statement_paid(
            actor=user, statement_id=statement.pk, payment_reference="X", paid_on=date(2026, 5, 15)
        )


def test_upcoming_accruals_show_what_the_current_billing_will_accrue_in_the_coming_months(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On 2 April 2026: USD 800 a month -> 160 for April, May and June; a line terminated on
    1 May -> 20 % of 100 = 20 for April only."""
    start_clock(monkeypatch, "2026-04-02T08:00:00")
    partner = OrganisationFactory()
    usd_800(partner, domain="acme.example")
    sourced_line(
        partner,
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), date(2026, 5, 1), "100.00")],
        domain="bolt.example",
    )
    sourced_line(  # another partner's line is not in this partner's forecast
        OrganisationFactory(),
        close_date=date(2026, 1, 12),
        billing=[(date(2026, 1, 1), None, "50.00")],
    )
    accrue(date(2026, 3, 1))
    upcoming = selectors.upcoming_accruals(partner, today=date(2026, 4, 2))
    assert [(u.month, u.customer_domain, u.mrr, u.currency, u.amount) for u in upcoming] == [
        (date(2026, 4, 1), "acme.example", D("800.00"), "USD", D("160.00")),
        (date(2026, 4, 1), "bolt.example", D("100.00"), "USD", D("20.00")),
        (date(2026, 5, 1), "acme.example", D("800.00"), "USD", D("160.00")),
        (date(2026, 6, 1), "acme.example", D("800.00"), "USD", D("160.00")),
    ]
    assert upcoming[0].product_line_name == "Marketing Hub"


def test_a_statements_lines_and_their_provenance_are_read_in_two_queries(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    start_clock(monkeypatch, "2026-07-02T08:00:00")
    for n in range(3):
        usd_800(cast.org_a, domain=f"line{n}.example")
    accrue(date(2026, 6, 1))
    close("2026-Q2")
    statement = Statement.objects.get()
    with django_assert_num_queries(2):
        lines = selectors.statement_lines(statement)
    assert len(lines) == 9
    assert {(x.amount, x.rate, x.kind) for x in lines} == {(D("160.00"), D("0.20"), "accrual")}
    assert all(x.registration and x.deal and x.entitlement for x in lines)
