"""Each escalation step is e-mailed to the partner's primary contact and its PDM, exactly once
per event: through the kernel outbox, after commit, even when the task is retried or run twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core import mail

from escalations.rules import Step
from partnerportal.core import notifications, versions
from partnerportal.core.models import Notification
from partnerportal.core.tasks import send_notification
from tests.cast import Cast
from tests.factories import PartnerUserFactory

from .steps import STAFF_SECRET, move, open_case

Capture = Callable[..., Any]


def test_primary_contact_and_pdm_get_one_email_per_step(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    PartnerUserFactory(email="second-admin@alpha.example", organisation=cast.org_a)
    with mock.patch.object(send_notification, "delay", side_effect=send_notification):
        with django_capture_on_commit_callbacks(execute=True):
            case = open_case(cast.ops, cast.org_a)
        with django_capture_on_commit_callbacks(execute=True):
            move(cast.ops, case, Step.MEDIATION)
    # The first admin (cast.admin_a) is the primary contact; the PDM is told too.
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        [
            (cast.admin_a.email, f"Escalation {case.pk} about {cast.org_a.name}: Complaint"),
            (cast.pdm.email, f"Escalation {case.pk} about {cast.org_a.name}: Complaint"),
            (cast.admin_a.email, f"Escalation {case.pk} about {cast.org_a.name}: Mediation"),
            (cast.pdm.email, f"Escalation {case.pk} about {cast.org_a.name}: Mediation"),
        ]
    )
    assert all(STAFF_SECRET not in m.body for m in mail.outbox)
    assert Notification.objects.filter(sent_at__isnull=False).count() == 4


def test_exactly_one_email_per_event_when_the_task_runs_twice(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        open_case(cast.ops, cast.org_a)
    # One task per recipient, enqueued after commit (beside the data version's replacement).
    assert len([c for c in callbacks if c is not versions.replace]) == 2
    rows = list(Notification.objects.order_by("id"))
    for row in rows:
        assert send_notification.apply(args=[row.pk]).get() is True
        assert send_notification.apply(args=[row.pk]).get() is False  # a duplicate: nothing
        send_notification.apply(args=[row.pk])  # and again
    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_and_still_sent_once(cast: Cast) -> None:
    case = open_case(cast.ops, cast.org_a)
    row = Notification.objects.filter(to_email=cast.admin_a.email).get()
    real = mail.get_connection

    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SMTP down")
        return real(*args, **kwargs)

    with mock.patch("django.core.mail.get_connection", side_effect=flaky):
        with pytest.raises(notifications.SendFailed):
            notifications.send(row.pk)
        row.refresh_from_db()
        assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "SMTP down")
        assert notifications.send(row.pk) is True  # the retry
        assert notifications.send(row.pk) is False  # a late duplicate of the first task
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.sent_at is not None
    assert [m.to for m in mail.outbox] == [[cast.admin_a.email]]
    assert case.pk


def test_the_task_retries_on_a_failed_send(cast: Cast) -> None:
    open_case(cast.ops, cast.org_a)
    row = Notification.objects.filter(to_email=cast.admin_a.email).get()
    with mock.patch.object(notifications, "send", side_effect=notifications.SendFailed("down")):
        result = send_notification.apply(args=[row.pk])
    assert result.state == "RETRY" or isinstance(result.result, Exception)
    assert send_notification.apply(args=[row.pk]).get() is True
    assert len(mail.outbox) == 1


def test_the_same_event_queued_twice_is_one_row(cast: Cast) -> None:
    from django.db import transaction

    with transaction.atomic():
        first = notifications.notify(key="t.1", recipient=cast.admin_a, subject="s", body="b")
        second = notifications.notify(key="t.1", recipient=cast.admin_a, subject="s", body="b")
    assert first is not None
    assert second is None
    assert Notification.objects.filter(key="t.1").count() == 1


def test_notify_refuses_outside_a_transaction(committed_db: None) -> None:
    person = PartnerUserFactory(email="solo@alpha.example")
    with pytest.raises(RuntimeError):
        notifications.notify(key="t.2", recipient=person, subject="s", body="b")
    assert not Notification.objects.exists()


def test_pending_notifications_are_sent_again_but_never_twice(cast: Cast) -> None:
    from partnerportal.core.tasks import send_pending_notifications

    open_case(cast.ops, cast.org_a)
    with mock.patch.object(send_notification, "delay", side_effect=send_notification):
        assert send_pending_notifications() == 2
        assert send_pending_notifications() == 0
    assert len(mail.outbox) == 2
