"""Append audit events in the caller's transaction (every service calls this).

Appending one also replaces the data version (`core.versions`): every state change goes
through here, so nothing cached under the old version is shown again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from . import versions
from .middleware import current_request_id
from .models import AuditEvent, Organisation, User


@dataclass(frozen=True)
class Audited:
    """One subject of `audit_many`: what the event is about, and its own facts."""

    subject: models.Model
    organisation: Organisation | None = None
    data: dict[str, Any] = field(default_factory=dict)


def audit(
    *,
    actor: User | None,
    verb: str,
    subject: models.Model,
    organisation: Organisation | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Record that `actor` did `verb` to `subject`. Must run inside the service's transaction,
    so that the change and its record commit or roll back together."""
    (event,) = audit_many(
        actor=actor,
        verb=verb,
        events=[Audited(subject=subject, organisation=organisation, data=data or {})],
        reason=reason,
        actor_label=actor_label,
    )
    return event


def audit_many(
    *,
    actor: User | None,
    verb: str,
    events: Sequence[Audited],
    reason: str = "",
    actor_label: str | None = None,
) -> list[AuditEvent]:
    """Record that `actor` did `verb` to each of many subjects, in one INSERT (a batch job's
    changes). Same rule as `audit`: inside the service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written inside the service's transaction")
    request_id = current_request_id()
    versions.data_changed()  # what pages and the signed-in user were cached from is stale
    label = actor_label or (actor.email if actor else "system")
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_label=label,
                verb=verb,
                subject_type=event.subject._meta.label_lower,
                subject_id=str(event.subject.pk),
                organisation=event.organisation,
                reason=reason,
                data=event.data,
                request_id=request_id,
            )
            for event in events
        ]
    )
