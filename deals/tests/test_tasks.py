"""The invitation-lapse periodic task (SPEC 5): on the beat schedule, idempotent, and run by a
real worker through real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery.schedules import crontab
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections
from django.utils import timezone

from deals import services, tasks
from deals.models import Deal, Registration
from partnerportal.core.models import AuditEvent
from tests.cast import Cast


def _invite(cast: Cast, monkeypatch: pytest.MonkeyPatch, *, at: datetime) -> dict[str, int]:
    """A vendor-owned deal with three invitations sent at `at`: A accepts at once, B and the
    provider do not. Return the registration ids by partner."""
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: at)
        deal = services.deal_create(
            actor=cast.gs,
            customer_domain=f"vendor-{at:%H%M%S%f}.example",
            customer_name="Vendor",
            country="GB",
            segment="smb",
        )
        ids = {
            org.name: services.invitation_create(actor=cast.gs, deal=deal, partner_id=org.pk).pk
            for org in (cast.org_a, cast.org_b, cast.provider)
        }
        services.invitation_accept(
            actor=cast.admin_a, registration=Registration.objects.get(pk=ids[cast.org_a.name])
        )
    return ids


def _statuses(ids: dict[str, int]) -> dict[str, str]:
    rows = dict(Registration.objects.filter(pk__in=ids.values()).values_list("pk", "status"))
    return {name: rows[pk] for name, pk in ids.items()}


def test_the_beat_schedule_lapses_invitations_every_15_minutes() -> None:
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "deals.lapse_invitations"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.minute == {0, 15, 30, 45}
    assert schedule.hour == set(range(24))
    assert tasks.lapse_invitations.name == "deals.lapse_invitations"


def test_lapse_invitations_lapses_only_unaccepted_invitations_past_72_hours(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: invitations sent 72 hours and a second ago, and others sent 71 hours ago
    now = timezone.now()
    old = _invite(cast, monkeypatch, at=now - timedelta(hours=72, seconds=1))
    recent = _invite(cast, monkeypatch, at=now - timedelta(hours=71))
    # when
    lapsed = tasks.lapse_invitations()
    # then
    assert lapsed == 2
    assert _statuses(old) == {
        cast.org_a.name: "accepted",
        cast.org_b.name: "lapsed",
        cast.provider.name: "lapsed",
    }
    assert set(_statuses(recent).values()) == {"accepted", "invited"}
    assert Deal.objects.filter(status="open").count() == 2  # the GS carries on alone
    # when: run again, it changes nothing
    snapshot = list(Registration.objects.order_by("pk").values_list())
    events = AuditEvent.objects.count()
    assert tasks.lapse_invitations() == 0
    assert list(Registration.objects.order_by("pk").values_list()) == snapshot
    assert AuditEvent.objects.count() == events


@pytest.fixture
def finished() -> Iterator[list[tuple[str, Any]]]:
    """(task name, return value) of every task the worker finishes during the test."""
    done: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def record(sender: Any = None, retval: Any = None, **kwargs: Any) -> None:
        # In the worker's thread: close its database connection (kept for CONN_MAX_AGE
        # otherwise), so none outlives the worker and the test database can be dropped.
        connections.close_all()
        with lock:
            done.append((sender.name, retval))

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition(), "the worker did not finish in time"


def test_a_real_worker_lapses_invitations_idempotently(
    celery_worker: object,
    cast: Cast,
    finished: list[tuple[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Integration: the task goes through real Redis to a real worker, twice (a redelivery)."""
    # given: committed invitations, two of them past 72 hours
    ids = _invite(cast, monkeypatch, at=timezone.now() - timedelta(days=4))
    fresh = _invite(cast, monkeypatch, at=timezone.now())
    # when
    tasks.lapse_invitations.delay()
    _wait_for(lambda: len(finished) == 1)
    # then
    assert finished == [("deals.lapse_invitations", 2)]
    assert _statuses(ids) == {
        cast.org_a.name: "accepted",
        cast.org_b.name: "lapsed",
        cast.provider.name: "lapsed",
    }
    assert "lapsed" not in _statuses(fresh).values()
    # when: run again, nothing changes
    snapshot = list(Registration.objects.order_by("pk").values_list())
    events = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    tasks.lapse_invitations.delay()
    _wait_for(lambda: len(finished) == 2)
    assert finished[1] == ("deals.lapse_invitations", 0)
    assert list(Registration.objects.order_by("pk").values_list()) == snapshot
    assert list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)) == events
    assert AuditEvent.objects.filter(verb="deals.registration.lapsed").count() == 2
