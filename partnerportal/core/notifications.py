"""The notifications outbox: e-mails told of events, exactly once.

An app calls `notify(...)` inside the transaction of the event (like `core.audit.audit`): one
`Notification` row per event and recipient, under a unique `key` the app builds from the event
(e.g. `escalations.case.12.transition.3.to.45`). Writing the same key twice is a no-op, so a
retried service writes no second row. After commit, the task `core.send_notification` sends it:
it locks the row (`SELECT ... FOR UPDATE`), sends nothing if the row is already marked sent,
else sends and marks it sent in the same transaction. A retried, duplicated or redelivered task
therefore sends nothing more. A failed send is retried with back-off (the row keeps the
attempts and the last error); `send_pending` re-enqueues rows left unsent (beat).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, Organisation, Role, User


def notify(
    *,
    key: str,
    recipient: User,
    subject: str,
    body: str,
    organisation: Organisation | None = None,
) -> Notification | None:
    """Queue one e-mail to `recipient` for the event named by `key`, in the caller's
    transaction; it is sent after commit. Return the row, or None when `key` was already queued
    (the event was told already) or the recipient has no active account."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notifications must be queued inside the event's transaction")
    if not recipient.is_active or not recipient.email:
        return None
    key = key[:200]
    if Notification.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin leaves the outer one usable
            created = Notification.objects.create(
                key=key,
                recipient=recipient,
                to_email=recipient.email,
                subject=subject[:200],
                body=body,
                organisation=organisation,
            )
    except IntegrityError:
        return None
    from .tasks import send_notification

    pk = created.pk
    transaction.on_commit(lambda: send_notification.delay(pk))
    return created


def send(notification_id: int) -> bool:
    """Send one queued e-mail unless it was sent already. Return whether this call sent it.
    Raises on a failed send (the caller, a task, retries); the attempt is recorded."""
    from django.core.mail import send_mail

    failure: Exception | None = None
    with transaction.atomic():
        row = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if row is None or row.sent_at is not None:
            return False
        try:
            send_mail(
                subject=row.subject,
                message=row.body,
                from_email=None,
                recipient_list=[row.to_email],
            )
        except Exception as exc:  # any transport error: recorded, then retried by the task
            failure = exc
            Notification.objects.filter(pk=row.pk).update(
                attempts=row.attempts + 1, last_error=str(exc)[:2000]
            )
        else:
            Notification.objects.filter(pk=row.pk).update(
                sent_at=timezone.now(), attempts=row.attempts + 1, last_error=""
            )
            return True
    raise SendFailed(str(failure)) from failure


class SendFailed(Exception):
    """A send failed; the task retries."""


def pending_ids(*, limit: int = 500) -> list[int]:
    """Rows still unsent (oldest first): what `core.send_pending_notifications` re-enqueues."""
    return list(
        Notification.objects.filter(sent_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def primary_contact(organisation: Organisation) -> User | None:
    """The partner's primary contact: its first active partner admin (the earliest added)."""
    return (
        User.objects.filter(organisation=organisation, role=Role.PARTNER_ADMIN, is_active=True)
        .order_by("id")
        .first()
    )


def partner_contacts(organisation: Organisation) -> list[User]:
    """Who hears of a partner's escalation steps and accreditation outcomes (SPEC 1, 8, 9): its
    primary contact and its PDM, those that exist and are active."""
    people = [primary_contact(organisation)]
    if organisation.pdm_id is not None:
        people.append(User.objects.filter(pk=organisation.pdm_id, is_active=True).first())
    return [person for person in people if person is not None]
