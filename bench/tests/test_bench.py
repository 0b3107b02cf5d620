"""The benchmark code against a tiny generated program, so it cannot rot unnoticed: the
generator fills every table it should, a re-tier run over that data stores exactly the
floor's totals, and the report says so."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from bench import retier
from bench.db import NotABenchDatabaseError
from bench.floor import compare, floor_totals, stored_totals
from bench.generate import Sizes, generate
from tiers import services

pytestmark = pytest.mark.django_db


def last_run_day() -> date:
    """The most recent 15th: a run may not be dated in the future."""
    today = timezone.localdate()
    return (
        today.replace(day=15)
        if today.day >= 15
        else (today.replace(day=1) - timedelta(days=1)).replace(day=15)
    )


def tiny(as_of: date) -> Sizes:
    return Sizes(
        partners=12,
        providers=2,
        customers=150,
        versions=500,
        associations=200,
        activities=1500,
        months=24,
        through=as_of.replace(day=1),
        seed=7,
    )


def quiet(_: str) -> None:
    pass


def test_it_refuses_a_database_not_named_for_the_bench() -> None:
    # given the test database (test_..., not pp_bench...)
    # when / then
    with pytest.raises(NotABenchDatabaseError):
        generate(tiny(last_run_day()), log=quiet)


def test_the_generated_program_has_every_kind_of_row() -> None:
    # given / when
    meta = generate(tiny(last_run_day()), i_know=True, vacuum=False, log=quiet)

    # then
    counts = meta["counts"]
    assert counts["partners"] == 12
    assert counts["providers"] == 2
    assert counts["customers"] == 150
    assert counts["subscription_versions"] == 500
    assert counts["sold_associations"] == 200
    assert 0 < counts["sourced_associations"] < 200
    assert counts["activities"] == 1500
    assert 0 < counts["logins"] < 1500
    assert counts["currencies"] == 9
    assert 0 < counts["customers_in_growth_markets"] < 150


def test_the_floor_equals_the_run() -> None:
    # given a tiny program
    as_of = last_run_day()
    generate(tiny(as_of), i_know=True, vacuum=False, log=quiet)

    # when the run assesses it in several chunks
    result = services.tier_run(as_of=as_of, actor=None, chunk_size=5)

    # then every partner's stored totals are the floor's, and every kind earned points
    assert result.partners_assessed == 12
    floor = floor_totals(as_of)
    comparison = compare(floor=floor, stored=stored_totals(as_of))
    assert comparison.ok, comparison.mismatches[:3]
    sourced, assisted, managed, total = (sum(t[i] for t in floor.values()) for i in range(4))
    assert sourced > 0
    assert assisted > 0
    assert managed > 0
    # Each figure is settled to 12 places on its own, so the total may differ in the last.
    assert abs(total - (sourced + assisted + managed)) <= Decimal("3e-12")


def test_the_benchmark_times_both_and_writes_the_report(tmp_path: Path) -> None:
    # given a tiny program, already run once for the date
    as_of = last_run_day()
    generate(tiny(as_of), i_know=True, vacuum=False, log=quiet)
    services.tier_run(as_of=as_of, actor=None)

    # when the benchmark undoes that run and times a fresh one against the floor
    outcome = retier.benchmark(as_of=as_of, chunk_size=5, floor_runs=1, log=quiet)
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\nHand-written analysis.\n")
    retier.write_report(retier.report(outcome, command="python -m bench.retier"), doc)
    retier.write_report(retier.report(outcome, command="python -m bench.retier"), doc)

    # then it was a full run that agrees with the floor, reported once, analysis kept
    assert outcome.partners_assessed == 12
    assert outcome.agrees
    assert outcome.run_seconds > 0
    assert outcome.floor_best > 0
    text = doc.read_text()
    assert text.startswith("# Performance\n\nHand-written analysis.\n")
    assert text.count(retier.BEGIN) == 1
    assert "ratio run / floor" in text
