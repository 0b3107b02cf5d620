"""The close's SQL (`services.statements.CLOSE_SQL`) puts on statements exactly the ledger lines
the pure rule `rules.takes_line` takes, with its prior-period flag, grouped one statement per
partner and currency, with the status and held reasons of `rules.held_reasons` on the partner
as it stands at the close, over generated histories: ledger lines of any month (accruals and
reversals, any sign, several currencies) arriving between closes of quarters in any order
(closed twice, out of order, with gaps), partners whose paperwork and standing change between
closes. A line is never on two statements; a closed quarter's statements never change."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions import rules, services
from commissions.models import AccrualRun, Entitlement, LedgerLine, Statement, StatementLine
from deals.tests.api_steps import start_clock
from partnerportal.core.models import Organisation
from partnerportal.core.rules import months_back
from tests.factories import OrganisationFactory, SoldAssociationFactory

pytestmark = pytest.mark.django_db
BASE = date(2025, 1, 1)
QUARTERS = [rules.Quarter(2025, 1)]
while len(QUARTERS) < 7:
    QUARTERS.append(QUARTERS[-1].next())
STANDINGS = [s.value for s in Organisation.Standing]

LINE = st.tuples(
    st.integers(0, 1),  # partner
    st.sampled_from(["USD", "EUR"]),
    st.integers(0, 3 * len(QUARTERS) + 2),  # month offset: up to a quarter past the last
    st.sampled_from(["160.00", "0.01", "66.67", "0.00", "1234.56"]),
    st.booleans(),  # a reversal (negative)
)
STATE = st.tuples(st.booleans(), st.sampled_from(STANDINGS))  # paperwork, standing
STEP = st.one_of(
    st.tuples(st.just("lines"), st.lists(LINE, min_size=1, max_size=5)),
    st.tuples(st.just("close"), st.integers(0, len(QUARTERS) - 1)),
    st.tuples(st.just("state"), st.integers(0, 1), STATE),
)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    start_clock(monkeypatch, "2030-01-15T10:00:00")
    return {}


def _entitlement(partner: Organisation) -> Entitlement:
    association = SoldAssociationFactory(organisation=partner)
    return Entitlement.objects.create(
        association=association,
        organisation=partner,
        customer=association.customer,
        product_line=association.product_line,
        deal=association.deal,
        program=rules.Program.PARTNER_SOURCED.value,
        months=36,
        close_date=association.close_date,
    )


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    states=st.tuples(STATE, STATE),
    steps=st.lists(STEP, min_size=1, max_size=10),
)
def test_the_close_sql_takes_exactly_the_lines_the_pure_rule_takes(
    world: dict[str, Any],
    states: tuple[tuple[bool, str], tuple[bool, str]],
    steps: list[tuple[Any, ...]],
) -> None:
    with transaction.atomic():
        partners = [OrganisationFactory() for _ in range(2)]
        for partner, (paperwork, standing) in zip(partners, states, strict=True):
            Organisation.objects.filter(pk=partner.pk).update(
                payout_paperwork_complete=paperwork, standing=standing
            )
        entitlements = [_entitlement(p) for p in partners]
        run = AccrualRun.objects.create(month=BASE, trigger=AccrualRun.Trigger.COMMAND)
        version = 0
        closed: set[rules.Quarter] = set()
        placed: dict[int, tuple[str, bool]] = {}  # ledger line -> (quarter, prior_period)
        snapshots: dict[str, list[tuple[Any, ...]]] = {}
        for step in steps:
            if step[0] == "lines":
                for who, currency, offset, amount, negative in step[1]:
                    version += 1
                    add = _reversal if negative else _accrual
                    add(entitlements[who], partners[who], offset, version, currency, amount, run)
            elif step[0] == "state":
                paperwork, standing = step[2]
                Organisation.objects.filter(pk=partners[step[1]].pk).update(
                    payout_paperwork_complete=paperwork, standing=standing
                )
            else:
                quarter = QUARTERS[step[1]]
                expected = _expected(quarter, closed, placed, partners)
                result = services.close_quarter(actor=None, quarter=quarter)
                if quarter in closed:
                    assert not result.created
                    assert _rows(quarter) == snapshots[quarter.label]
                    continue
                assert result.created
                got_lines = {
                    sl.ledger_line_id: (sl.statement.quarter, sl.prior_period)
                    for sl in StatementLine.objects.filter(
                        statement__quarter=quarter.label
                    ).select_related("statement")
                }
                assert got_lines == expected["lines"], (quarter, steps)
                assert _statements(quarter) == expected["statements"], (quarter, steps)
                assert (result.statements, result.lines) == (
                    len(expected["statements"]),
                    len(expected["lines"]),
                )
                placed.update(got_lines)
                closed.add(quarter)
                snapshots[quarter.label] = _rows(quarter)
        # Closed quarters never changed, and no ledger line is on two statements.
        for label, rows in snapshots.items():
            assert _rows(rules.parse_quarter(label)) == rows
        assert StatementLine.objects.count() == len(placed)
        transaction.set_rollback(True)


def _accrual(
    entitlement: Entitlement,
    partner: Organisation,
    offset: int,
    version: int,
    currency: str,
    amount: str,
    run: AccrualRun,
) -> LedgerLine:
    value = Decimal(amount)
    return LedgerLine.objects.create(
        entitlement=entitlement,
        organisation=partner,
        month=months_back(BASE, -offset),
        version=version,
        kind="accrual",
        mrr=value * 5,
        currency_id=currency,
        amount=value,
        run=run,
    )


def _reversal(
    entitlement: Entitlement,
    partner: Organisation,
    offset: int,
    version: int,
    currency: str,
    amount: str,
    run: AccrualRun,
) -> LedgerLine:
    """A reversal line, with the accrual it reverses (both arrive together, same month)."""
    value = Decimal(amount)
    target = _accrual(entitlement, partner, offset, version, currency, amount, run)
    month = target.month
    return LedgerLine.objects.create(
        entitlement=entitlement,
        organisation=partner,
        month=month,
        version=version,
        kind="reversal",
        mrr=value * 5,
        currency_id=currency,
        amount=-value,
        reverses=target,
        reason="Billing corrected.",
        run=run,
    )


def _expected(
    quarter: rules.Quarter,
    closed: set[rules.Quarter],
    placed: dict[int, tuple[str, bool]],
    partners: list[Organisation],
) -> dict[str, Any]:
    """The pure rules, line by line: which lines the close takes, and the statements."""
    lines: dict[int, tuple[str, bool]] = {}
    sums: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in LedgerLine.objects.all():
        if line.pk in placed:
            continue
        taken, prior = rules.takes_line(line.month, quarter, closed)
        if taken:
            lines[line.pk] = (quarter.label, prior)
            key = (line.organisation_id, line.currency_id)
            sums[key][0] += line.amount
            if prior:
                sums[key][1] += line.amount
    states = {
        o.pk: rules.held_reasons(
            payout_paperwork_complete=o.payout_paperwork_complete, standing=o.standing
        )
        for o in Organisation.objects.filter(pk__in=[p.pk for p in partners])
    }
    statements = {
        key: (
            total,
            prior,
            rules.payable_on(quarter),
            rules.statement_status(states[key[0]]),
            states[key[0]],
        )
        for key, (total, prior) in sums.items()
    }
    return {"lines": lines, "statements": statements}


def _statements(quarter: rules.Quarter) -> dict[tuple[int, str], tuple[Any, ...]]:
    return {
        (s.organisation_id, s.currency_id): (
            s.total,
            s.prior_period_total,
            s.payable_on,
            s.status,
            list(s.held_reasons),
        )
        for s in Statement.objects.filter(quarter=quarter.label)
    }


def _rows(quarter: rules.Quarter) -> list[tuple[Any, ...]]:
    return sorted(
        (
            s.organisation_id,
            s.currency_id,
            s.total,
            s.prior_period_total,
            s.status,
            tuple(sorted(s.lines.values_list("ledger_line_id", "amount", "prior_period"))),
        )
        for s in Statement.objects.filter(quarter=quarter.label)
    )
