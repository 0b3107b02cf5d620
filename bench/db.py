"""What both benchmark commands share: Django set-up and the guard on the database name."""

from __future__ import annotations

import os

#: Only databases whose name starts with this may be wiped by the benchmark commands.
BENCH_DB_PREFIX = "pp_bench"


class NotABenchDatabaseError(RuntimeError):
    """The benchmark was pointed at a database it must not wipe."""


def setup_django() -> None:
    """Configure Django for a command-line run (development settings unless told)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerportal.settings.dev")
    # Timings must not include DEBUG's per-query bookkeeping.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()


def database_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def require_bench_database(*, i_know: bool) -> str:
    """Return the database name; refuse unless it is a bench database or `i_know`."""
    name = database_name()
    if not (name.startswith(BENCH_DB_PREFIX) or i_know):
        raise NotABenchDatabaseError(
            f"database {name!r} does not start with {BENCH_DB_PREFIX!r}: the benchmark wipes "
            "the tables it fills. Point DATABASE_URL at a bench database (e.g. "
            f"postgres://postgres@127.0.0.1:5432/{BENCH_DB_PREFIX}) or pass --i-know."
        )
    return name
