"""Reads of certifications and accreditations: scoped to what the caller may see (through
`core.access`), and the set-based facts the tier run and the reviews need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from escalations import selectors as escalations
from partnerportal.core import access
from partnerportal.core.errors import NotFound
from partnerportal.core.models import Organisation, User

from . import rules
from .models import (
    Accreditation,
    AccreditationRequirement,
    AccreditationReview,
    Certification,
    CertificationKind,
)
from .permissions import AccreditationAction


def _held_on(as_of: date) -> Q:
    # `rules.held_on` repeated in a query, so the tier run counts in one statement (held equal
    # by accreditations/tests/test_property_held_sql_equals_rules.py): a certification is held
    # on a day unless it expired that day or before.
    return Q(expires_on__isnull=True) | Q(expires_on__gt=as_of)


@dataclass(frozen=True)
class TeamCertifications:
    """The certifications a partner's team holds on a date, counted (SPEC 2)."""

    total: int = 0
    software: int = 0
    implementation: int = 0


def team_certifications(*, org_ids: Iterable[int], as_of: date) -> dict[int, TeamCertifications]:
    """Count, in one statement, the certifications each organisation's team holds on `as_of`
    (not expired), in all and by kind. Organisations holding none are absent."""
    rows = (
        Certification.objects.filter(_held_on(as_of), organisation_id__in=list(org_ids))
        .values("organisation_id")
        .annotate(
            total=Count("id"),
            software=Count("id", filter=Q(kind=CertificationKind.SOFTWARE)),
            implementation=Count("id", filter=Q(kind=CertificationKind.IMPLEMENTATION)),
        )
        .order_by()
    )
    return {
        row["organisation_id"]: TeamCertifications(
            total=row["total"], software=row["software"], implementation=row["implementation"]
        )
        for row in rows
    }


def held_codes(*, org_ids: Iterable[int], as_of: date) -> dict[int, frozenset[str]]:
    """The certification codes each organisation's team holds on `as_of` (one query; the
    rule is `rules.held_on`)."""
    found: dict[int, list[tuple[str, date | None]]] = defaultdict(list)
    for org_id, code, expires_on in Certification.objects.filter(
        organisation_id__in=list(org_ids)
    ).values_list("organisation_id", "code", "expires_on"):
        found[org_id].append((code, expires_on))
    return {org_id: rules.held_on(rows, on=as_of) for org_id, rows in found.items()}


def requirements() -> dict[str, tuple[str, ...]]:
    """The certifications each kind requires (partner ops' data, else SPEC's default)."""
    configured = {
        row.kind: tuple(row.certifications) for row in AccreditationRequirement.objects.all()
    }
    return {kind.value: rules.requirements_of(kind, configured) for kind in rules.Kind}


def marks_on_record(*, org_ids: Iterable[int], as_of: date) -> dict[int, int]:
    """The marks on record of each organisation on `as_of` (the escalations app's record)."""
    return escalations.marks_on_record(organisation_ids=list(org_ids), as_of=as_of)


def holders_of_valid_accreditations(*, org_ids: Iterable[int], as_of: date) -> set[int]:
    """The organisations holding an accreditation valid on `as_of` (active or in grace, not
    expired): partner matching's first way in (SPEC 10)."""
    return set(
        Accreditation.objects.filter(
            organisation_id__in=list(org_ids),
            status__in=[rules.Status.ACTIVE, rules.Status.GRACE],
            issued_on__lte=as_of,
            expires_on__gt=as_of,
        ).values_list("organisation_id", flat=True)
    )


# --- Scoped reads for pages and the API ---------------------------------------------------


def visible_accreditations(user: User) -> QuerySet[Accreditation]:
    """The accreditations `user` may read: ops all, a PDM their partners', a partner's users
    their own (newest first)."""
    if not access.can(user, AccreditationAction.VIEW):
        return Accreditation.objects.none()
    return (
        access.scope_to_user(user, Accreditation.objects.all(), organisation_field="organisation")
        .select_related("organisation")
        .order_by("-applied_at", "-pk")
    )


def accreditation_for(user: User, pk: object) -> Accreditation:
    """The accreditation `pk` if `user` may read it, else NotFound (never told apart)."""
    try:
        return visible_accreditations(user).get(pk=int(str(pk)))
    except (Accreditation.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such accreditation.") from exc


def visible_certifications(user: User) -> QuerySet[Certification]:
    if not access.can(user, AccreditationAction.VIEW):
        return Certification.objects.none()
    return access.scope_to_user(
        user, Certification.objects.all(), organisation_field="organisation"
    ).select_related("organisation")


def organisation_accreditations(organisation: Organisation) -> list[Accreditation]:
    return list(
        Accreditation.objects.filter(organisation=organisation).order_by("kind", "-applied_at")
    )


def organisation_certifications(organisation: Organisation) -> list[Certification]:
    return list(Certification.objects.filter(organisation=organisation).order_by("code"))


def board_queue() -> QuerySet[Accreditation]:
    """Accreditations waiting for the review board, oldest first."""
    return (
        Accreditation.objects.filter(status=rules.Status.BOARD_REVIEW)
        .select_related("organisation")
        .order_by("updated_at", "pk")
    )


def reviews_of(accreditation: Accreditation) -> list[AccreditationReview]:
    return list(accreditation.reviews.order_by("-review_date"))
