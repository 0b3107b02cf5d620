"""The operator command `retier`, the monthly Celery task (through a real worker) and its
beat entry."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from partnerportal.core.models import AuditEvent, Currency, Organisation
from tests.cast import Cast
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    OrganisationFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
)
from tiers import tasks
from tiers.models import TierAssessment, TierRun

MARCH = date(2026, 3, 15)


def managed_customer(org: Organisation, *, mrr: str, active_on: datetime) -> None:
    """`org` manages a customer billed `mrr` USD since 2025 (so `mrr / 100` managed points)."""
    line = SubscriptionFactory(customer=CustomerFactory())
    SubscriptionVersionFactory(
        subscription=line,
        mrr=Decimal(mrr),
        currency=Currency.objects.get(code="USD"),
        effective_from=date(2025, 1, 1),
    )
    ActivityFactory(organisation=org, customer=line.customer, occurred_at=active_on)


def retier(*args: str) -> str:
    out = StringIO()
    call_command("retier", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_retier_assesses_the_date_and_says_what_it_did(cast: Cast) -> None:
    managed_customer(cast.org_a, mrr="500.00", active_on=datetime(2026, 3, 1, tzinfo=UTC))

    output = retier("--as-of", "2026-03-15")

    run = TierRun.objects.get()
    assert output.strip() == (
        f"Run {run.pk} for 2026-03-15 (rules of 2026-01-15): 2 partners assessed, 0 tier "
        "changes; 0 already assessed for this date, left as they were."
    )
    assert (run.trigger, run.requested_by, run.partners_assessed) == ("command", None, 2)
    assert TierAssessment.objects.get(organisation=cast.org_a).managed_points == 5
    event = AuditEvent.objects.get(verb="tiers.run.completed")
    assert (event.actor, event.actor_label) == (None, "operator")


@pytest.mark.django_db
def test_retier_twice_changes_nothing_and_says_so(cast: Cast) -> None:
    retier("--as-of", "2026-03-15")
    before = list(TierAssessment.objects.order_by("pk").values_list())

    output = retier("--as-of", "2026-03-15")

    assert "0 partners assessed, 0 tier changes; 2 already assessed" in output
    assert list(TierAssessment.objects.order_by("pk").values_list()) == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2026-13-01", "15/03/2026", "20260315", "yesterday", ""])
def test_retier_refuses_a_bad_date_clearly(cast: Cast, value: str) -> None:
    with pytest.raises(CommandError, match=r"--as-of must be a calendar date written YYYY-MM-DD"):
        retier("--as-of", value)
    assert not TierRun.objects.exists()


@pytest.mark.django_db
def test_retier_refuses_a_date_without_rules_or_in_the_future(cast: Cast) -> None:
    with pytest.raises(CommandError, match="No tier rule set is in force on 2025-07-14"):
        retier("--as-of", "2025-07-14")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="is in the future"):
        retier("--as-of", tomorrow)
    assert not TierAssessment.objects.exists()


@pytest.mark.django_db
def test_the_task_runs_for_today_by_the_process_clock(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the process clock on the evening of 15 July 2026 (a replay, SPEC 11)
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 7, 15, 23, tzinfo=UTC))

    # when
    outcome = tasks.monthly_retier()

    # then
    run = TierRun.objects.get()
    assert (run.as_of, run.trigger) == (date(2026, 7, 15), "schedule")
    assert outcome == {
        "run": run.pk,
        "as_of": "2026-07-15",
        "partners_assessed": 2,
        "tier_changes": 0,
    }


def test_the_beat_schedule_runs_the_task_on_the_15th_of_every_month() -> None:
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "tiers.monthly_retier"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.day_of_month == {15}
    assert schedule.month_of_year == set(range(1, 13))
    assert len(schedule.hour) == len(schedule.minute) == 1


def _wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)


def test_a_real_worker_runs_the_monthly_task_idempotently(celery_worker: object) -> None:
    """Integration: the task goes through real Redis to a real worker, twice."""
    # given: a partner managing a USD 700 customer, active today
    today = timezone.localdate()
    org = OrganisationFactory()
    managed_customer(org, mrr="700.00", active_on=timezone.now())

    # when
    tasks.monthly_retier.delay()
    _wait_for(lambda: TierRun.objects.filter(finished_at__isnull=False).count() == 1)

    # then
    first = TierRun.objects.get()
    assert (first.as_of, first.trigger, first.partners_assessed) == (today, "schedule", 1)
    assessment = TierAssessment.objects.get(organisation=org, as_of=today)
    assert assessment.managed_points == 7

    # when: redelivered or run again, it changes nothing
    snapshot = list(TierAssessment.objects.values_list())
    tasks.monthly_retier.delay()
    _wait_for(lambda: TierRun.objects.filter(finished_at__isnull=False).count() == 2)

    assert TierRun.objects.order_by("started_at").last().partners_assessed == 0  # type: ignore[union-attr]
    assert list(TierAssessment.objects.values_list()) == snapshot
