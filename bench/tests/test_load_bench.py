"""The load benchmark's code (bench/load.py) against a tiny generated program, so it cannot
rot: the sessions it writes sign the right people in (staff past the second factor) to the
pages it measures, and the report says which targets a run met."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from bench import load
from bench.generate import generate
from bench.tests.test_bench import last_run_day, quiet, tiny
from tiers import services

pytestmark = pytest.mark.django_db


def _client(session: str) -> Client:
    client = Client()
    client.cookies["sessionid"] = session
    return client


def test_the_bench_sessions_open_the_pages_it_measures() -> None:
    as_of = last_run_day()
    generate(tiny(as_of), i_know=True, vacuum=False, log=quiet)
    services.tier_run(as_of=as_of, actor=None)

    sessions = load.prepare(partners=5, seed=1)

    assert len(sessions["partner"]) == 5
    partner, session = sessions["partner"][0]
    assert _client(session).get(f"/partners/{partner}/tier/").status_code == 200
    assert _client(session).get("/deals/").status_code == 200
    (_, gs), (_, finance) = sessions["gs"][0], sessions["finance"][0]
    assert _client(gs).get("/deals/workspace/").status_code == 200
    assert _client(finance).get("/finance/quarters/").status_code == 200
    # once more: the users are kept, the sessions new
    again = load.prepare(partners=5, seed=1)
    assert [p for p, _ in again["partner"]] == [p for p, _ in sessions["partner"]]


def _phase(
    label: str, *, count: int, seconds: float, latency: float, errors: int = 0
) -> load.Phase:
    phase = load.Phase(label, "/x/", [(None, "")], count=count, seconds=seconds)
    phase.latencies = [latency] * count
    phase.statuses["200"] = count - errors
    if errors:
        phase.statuses["500"] = errors
    return phase


def test_a_page_meets_the_targets_at_half_the_trivial_rate_and_p95_under_300_ms() -> None:
    fast = load.Row(_phase("fast", count=600, seconds=10, latency=0.1), trivial=100.0)
    slow = load.Row(_phase("slow", count=400, seconds=10, latency=0.1), trivial=100.0)
    late = load.Row(_phase("late", count=600, seconds=10, latency=0.31), trivial=100.0)
    failing = load.Row(_phase("bad", count=600, seconds=10, latency=0.1, errors=1), trivial=100.0)

    assert (fast.ratio, fast.met) == (0.6, True)
    assert (slow.ratio, slow.met) == (0.4, False)
    assert late.met is False
    assert failing.met is False


def test_the_report_replaces_only_its_block(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(f"# Performance\n\nkept\n\n{load.BEGIN}\nold\n{load.END}\n\nalso kept\n")

    load.write_report(f"{load.BEGIN}\nnew\n{load.END}", doc)

    assert doc.read_text() == (
        f"# Performance\n\nkept\n\n{load.BEGIN}\nnew\n{load.END}\n\nalso kept\n"
    )
