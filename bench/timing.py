"""What the benchmarks share: statements timed by label (and each commit), the machine they ran
on, the load average, and the generated blocks of docs/PERFORMANCE.md."""

from __future__ import annotations

import json
import os
import platform
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
COMMIT_LABEL = "COMMIT (deferred checks, if any)"
OUTSIDE_LABEL = "outside SQL (Python, round trips)"


@dataclass
class StatementStats:
    """Time spent per kind of statement (its label), and EXPLAIN ANALYZE plans if asked."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    plans: list[tuple[str, str]] = field(default_factory=list)

    def top(self, n: int = 12) -> list[tuple[str, int, float]]:
        ranked = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:n]
        return [(label, self.counts[label], secs) for label, secs in ranked]

    def breakdown(self, total: float, n: int = 12) -> list[tuple[str, int | str, float]]:
        """The top statements, then everything outside SQL."""
        rows: list[tuple[str, int | str, float]] = list(self.top(n))
        rows.append((OUTSIDE_LABEL, "", total - sum(self.seconds.values())))
        return rows


def label_of(sql: str, patterns: Sequence[tuple[str, str]]) -> str:
    """The label of the first pattern `sql` (whitespace folded) matches, formatted with its
    groups; else the statement's first 60 characters."""
    text = re.sub(r"\s+", " ", sql).strip()
    for pattern, label in patterns:
        match = re.match(pattern, text)
        if match:
            return label.format(*match.groups())
    return text[:60]


@contextmanager
def timed_statements(
    stats: StatementStats,
    label: Callable[[str], str],
    *,
    explain: Callable[[str], bool] | None = None,
) -> Iterator[None]:
    """Time every statement, by `label(sql)`, and every commit (where deferred checks run).

    `explain(label)` true: that statement is run as EXPLAIN ANALYZE instead (which performs a
    CREATE TABLE AS or an INSERT, so the effects are the same) and its plan kept; only
    statements returning no rows may be explained."""
    from django.db import connection

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        name = label(sql)
        start = time.perf_counter()
        try:
            if explain is not None and not many and explain(name):
                cursor = context["cursor"]
                execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params, many, context)
                stats.plans.append((name, "\n".join(r[0] for r in cursor.fetchall())))
                return None
            return execute(sql, params, many, context)
        finally:
            stats.seconds[name] += time.perf_counter() - start
            stats.counts[name] += 1

    original_commit = getattr(connection, "_commit")  # noqa: B009  (private, bench-only)

    def timed_commit() -> Any:
        start = time.perf_counter()
        try:
            return original_commit()
        finally:
            stats.seconds[COMMIT_LABEL] += time.perf_counter() - start
            stats.counts[COMMIT_LABEL] += 1

    setattr(connection, "_commit", timed_commit)  # noqa: B010
    try:
        with connection.execute_wrapper(wrapper):
            yield
    finally:
        delattr(connection, "_commit")  # back to the class's method


def load_average() -> float:
    """The 1-minute load average (0 where the system does not say)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def machine() -> dict[str, str]:
    """The CPU, memory, OS, PostgreSQL (and the settings that matter here) and Python."""
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit', "
            "'effective_cache_size', 'synchronous_commit') ORDER BY name"
        )
        pg_settings = ", ".join(f"{k}={v}" for k, v in cursor.fetchall())
    import django

    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "os": platform.platform(),
        "postgres": f"PostgreSQL {pg_version} ({pg_settings})",
        "python": f"Python {platform.python_version()}, Django {django.get_version()}",
    }


def generation() -> dict[str, Any]:
    """The parameters `bench.generate` recorded for this database ({} if none)."""
    from django.db import connection

    from bench.generate import META_TABLE

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [META_TABLE])
        if cursor.fetchone()[0] is None:
            return {}
        cursor.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'generate'")
        row = cursor.fetchone()
    if row is None:
        return {}
    value = row[0]
    return json.loads(value) if isinstance(value, str) else dict(value)


def write_report(block: str, *, begin: str, end: str, path: Path = DOC) -> None:
    """Replace the generated block between `begin` and `end` in `path` (append it if the file
    has none)."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
