"""The commissions benchmark code against a tiny generated program, so it cannot rot: the
generator gives every sold association an entitlement, the accrual benchmark's run and floor
write the same lines, the statements benchmark's close gives the floor's totals, and the
reports say so."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from bench import accrual, statements
from bench.generate import Sizes, generate, generate_entitlements
from commissions.models import Entitlement, LedgerLine
from commissions.rules import Quarter
from commissions.services import accrual_run
from partnerportal.core.rules import first_of_month, months_back

pytestmark = pytest.mark.django_db


def tiny(through: date) -> Sizes:
    return Sizes(
        partners=12,
        providers=2,
        customers=150,
        versions=500,
        associations=200,
        activities=300,
        months=24,
        through=through,
        seed=7,
    )


def quiet(_: str) -> None:
    pass


def test_every_generated_sold_association_has_an_entitlement() -> None:
    # given / when
    meta = generate(
        tiny(first_of_month(timezone.localdate())), i_know=True, vacuum=False, log=quiet
    )

    # then sourced ones are Partner Sourced (36 months), assisted ones Upmarket (12)
    counts = meta["counts"]
    assert counts["entitlements"] == counts["sold_associations"] == 200
    assert counts["upmarket_entitlements"] == 200 - counts["sourced_associations"]
    assert set(Entitlement.objects.values_list("program", "months").distinct()) == {
        ("partner_sourced", 36),
        ("upmarket_referral", 12),
    }

    # and rebuilding only the entitlements gives them again, the ledger emptied
    assert generate_entitlements(i_know=True, log=quiet) == 200
    assert not LedgerLine.objects.exists()


def test_the_accrual_benchmark_run_equals_its_floor_and_is_reported(tmp_path: Path) -> None:
    # given a tiny program with entitlements, and last month to time
    this_month = first_of_month(timezone.localdate())
    generate(tiny(this_month), i_know=True, vacuum=False, log=quiet)
    month = months_back(this_month, 1)

    # when the benchmark runs the history, then the month twice (undoing it in between)
    outcome = accrual.benchmark(month=month, chunk_size=50, runs=2, floor_runs=1, log=quiet)
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\nHand-written analysis.\n")
    for _ in range(2):
        accrual.write_report(accrual.report(outcome, command="python -m bench.accrual"), doc)

    # then the month's lines are the floor's, row for row, and there were some
    assert outcome.history_seconds is not None
    assert outcome.agrees
    assert outcome.lines_accrued == outcome.floor_lines > 0
    assert len(outcome.run_seconds_all) == 2
    assert LedgerLine.objects.filter(month=month, kind="accrual").count() == outcome.floor_lines
    text = doc.read_text()
    assert text.startswith("# Performance\n\nHand-written analysis.\n")
    assert text.count(accrual.BEGIN) == 1
    assert "ratio run / floor" in text


def test_the_accrual_benchmark_with_changes_noted_still_equals_its_floor() -> None:
    # given a tiny program with entitlements, and last month to time
    this_month = first_of_month(timezone.localdate())
    generate(tiny(this_month), i_know=True, vacuum=False, log=quiet)
    month = months_back(this_month, 1)

    # when five credited lines are noted as changed before the timed run
    outcome = accrual.benchmark(
        month=month, chunk_size=50, runs=1, floor_runs=1, changed=5, log=quiet
    )

    # then the changed entitlements went through the chunks and the month is still the floor's
    assert outcome.stats.counts.get("ledger brought to them, per chunk (ACCRUE_SQL)", 0) >= 1
    assert outcome.agrees
    assert outcome.lines_accrued == outcome.floor_lines > 0


def test_the_statements_benchmark_closes_and_exports_a_quarter_equal_to_its_floor(
    tmp_path: Path,
) -> None:
    # given a tiny program accrued through the last quarter that has ended
    this_month = first_of_month(timezone.localdate())
    generate(tiny(this_month), i_know=True, vacuum=False, log=quiet)
    quarter = Quarter.of(this_month).previous()
    accrual_run(month=first_of_month(quarter.ends_on), actor=None, trigger="command")

    # when the benchmark closes it and exports it twice (undoing the close in between)
    outcome = statements.benchmark(quarter=quarter, runs=2, floor_runs=1, log=quiet)
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n")
    for _ in range(2):
        statements.write_report(
            statements.report(outcome, command="python -m bench.statements"), doc
        )

    # then every statement's total is the floor's, and an XLSX file was produced
    assert outcome.agrees
    assert outcome.statements > 0
    assert (
        outcome.lines
        == LedgerLine.objects.filter(
            month__gte=quarter.starts_on, month__lte=quarter.ends_on
        ).count()
    )
    assert outcome.xlsx_bytes > 0
    assert len(outcome.total_all) == 2
    assert doc.read_text().count(statements.BEGIN) == 1
