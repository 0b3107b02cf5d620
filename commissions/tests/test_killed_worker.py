"""A real worker process running the accrual is killed (SIGKILL) partway, after some chunks
committed and while another is in flight; the operator runs `manage.py accrue` again; the
ledger is then exactly, row for row, the ledger of a clean run on the same data (issue 12).

Nothing in the code under test knows it is being tested. The kill lands at a known point by
a lock: the test holds the GBP currency row `FOR UPDATE`, and only the entitlements of the
last chunk are billed in GBP, so that chunk waits, its lines inserted and not committed, on
the ledger's reference check (the statement trigger `commissions_ledgerline_references` locks
the currencies its lines name FOR KEY SHARE, as a foreign key would) while the first two
chunks are already committed. The test sees the worker's backend waiting on it through
`pg_blocking_pids`, kills the worker process, and waits until PostgreSQL has noticed the dead
client and rolled its transaction back (`client_connection_check_interval`, set for the
worker's session)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from commissions import services
from commissions.models import AccrualRun, Entitlement, LedgerLine, UpmarketThreshold
from partnerportal.core.models import Currency, Organisation
from partnerportal.core.rules import first_of_month, months_back
from tests.factories import OrganisationFactory

from .steps import ledger_rows, sourced_line

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


@pytest.fixture
def committed(committed_db: None) -> Iterator[None]:
    """Committed data (a separate process must read it). Django flushes every table after
    the test: the commissions rule-set rows the migrations seeded are restored, as the shared
    `committed_db` restores the kernel's and the tiers'."""

    def seed() -> None:
        if not UpmarketThreshold.objects.exists():
            import_module(
                "commissions.migrations.0003_upmarket_rule_sets_and_backfill_entitlements"
            ).seed_and_backfill(apps, None)

    seed()
    yield
    seed()


def worker_environment() -> dict[str, str]:
    """The worker's environment: the test settings, pointed at this test database, and a
    session that notices a dead client within a tenth of a second."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partnerportal.settings.test",
        "DATABASE_URL": (
            f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        "PGOPTIONS": "-c client_connection_check_interval=100",
        "PYTHONPATH": str(ROOT),
    }


WORKER = """
import sys
from datetime import date
import django
django.setup()
from commissions.services import accrual_run
accrual_run(month=date.fromisoformat(sys.argv[1]), actor=None, trigger="command", chunk=2)
"""


def blocked_by_me() -> list[int]:
    with connection.cursor() as cursor:
        # Activity is a snapshot per transaction (the test polls inside one): refresh it.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return [row[0] for row in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(cursor.fetchone()[0])


def waiting(worker: subprocess.Popen[bytes]) -> bool:
    """Whether the worker's backend waits on this test's lock (failing if it already ended)."""
    if worker.poll() is not None:
        _, err = worker.communicate()
        raise AssertionError(f"the worker ended ({worker.returncode}): {err.decode()[-2000:]}")
    return bool(blocked_by_me())


def wait_for(what: str, check: object) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed")
def test_a_worker_process_killed_mid_run_and_run_again_equals_a_clean_run() -> None:
    # given six credited lines, in entitlement order: four billed in USD or EUR, the last two
    # (the third chunk of two) in GBP; a month from the real clock (the worker's clock)
    month = months_back(first_of_month(timezone.localdate()), 1)
    first = months_back(month, 9)
    partner = OrganisationFactory()
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER, has_partner_certification=False)
    plan = [
        (partner, "USD", "800.00", None),
        (provider, "USD", "50.00", months_back(month, 2)),
        (partner, "EUR", "12.34", None),
        (partner, "USD", "999.99", months_back(month, 4)),
        (partner, "GBP", "333.33", None),
        (provider, "GBP", "3000.00", None),
    ]
    for n, (who, currency, mrr, until) in enumerate(plan):
        association = sourced_line(
            who,
            close_date=months_back(first, -n).replace(day=3 + n),
            billing=[(first, until, mrr)],
            currency=currency,
            domain=f"killed{n}.example",
        )
        services.entitlements_for_deal(
            deal=association.deal, associations=[association], actor=None
        )
    assert Entitlement.objects.count() == 6

    # and the ledger a clean run writes, rolled back again
    with transaction.atomic():
        services.accrual_run(month=month, actor=None, trigger="command", chunk=2)
        clean = ledger_rows()
        transaction.set_rollback(True)
    assert not LedgerLine.objects.exists()
    assert not AccrualRun.objects.exists()
    gbp_lines = sum(1 for row in clean if row[6] == "GBP")
    assert 0 < gbp_lines < len(clean)

    # when a worker process runs the accrual in chunks of two and is killed while the third
    # chunk waits to commit
    with transaction.atomic():
        Currency.objects.select_for_update().get(code="GBP")
        worker = subprocess.Popen(  # noqa: S603  (our interpreter, a constant script)
            [sys.executable, "-c", WORKER, month.isoformat()],
            cwd=ROOT,
            env=worker_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for("the worker to wait on the GBP lock", lambda: waiting(worker))
            (backend,) = blocked_by_me()
            committed_before_kill = LedgerLine.objects.count()
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL
            wait_for("PostgreSQL to drop the dead worker", lambda: not backend_alive(backend))
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    # then two chunks' lines are committed, the third chunk's none, and the run is unfinished
    assert committed_before_kill == LedgerLine.objects.count() == len(clean) - gbp_lines
    assert not LedgerLine.objects.filter(currency_id="GBP").exists()
    (killed,) = AccrualRun.objects.all()
    assert killed.finished_at is None

    # when the operator runs the month again
    again = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "accrue", "--month", f"{month:%Y-%m}"],
        cwd=ROOT,
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert f"{gbp_lines} lines accrued, 0 lines reversed." in again.stdout

    # then the ledger is the clean run's, row for row, and the second run finished
    assert ledger_rows() == clean
    assert AccrualRun.objects.filter(finished_at__isnull=False).count() == 1
