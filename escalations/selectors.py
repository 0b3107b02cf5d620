"""Reads of escalations, always through the permission layer.

Who sees what (SPEC 1, 9, 11):
- staff who work cases (customer success, service acceleration, partner ops) see every case;
  a PDM sees its assigned partners' cases; growth specialists and finance see none;
- a partner user sees its own organisation's cases, their step and status and partner-visible
  notes only (never the summary, staff-only notes or who acted), and its own marks;
- anything outside these is a 404 for the caller.

The set-based reads other apps call (accreditations, tiers, commissions) take organisation ids
and a date, and need no user: `marks_on_record`, `consequences_in_effect`, `tier_drops`,
`standings_on`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from partnerportal.core.access import can, get_visible_organisation, scope_to_user
from partnerportal.core.errors import NotFound
from partnerportal.core.models import PARTNER_ROLES, Organisation, User

from . import rules
from .models import Consequence, ConsequenceKind, Escalation, Mark, Note, Transition, Visibility
from .permissions import EscalationAction

# --- Set-based reads for other apps -----------------------------------------------------------


def marks_on_record(*, organisation_ids: Iterable[int], as_of: date) -> dict[int, int]:
    """How many marks on record each organisation has, effective on or before `as_of`
    (organisations with none are absent: read with `.get(pk, 0)`). One query."""
    ids = list(organisation_ids)
    rows = (
        Mark.objects.filter(organisation_id__in=ids, effective_on__lte=as_of)
        .values("organisation_id")
        .annotate(n=Count("id"))
    )
    return {row["organisation_id"]: row["n"] for row in rows}


def _in_effect(as_of: date) -> Q:
    return Q(effective_from__lte=as_of) & (
        Q(effective_until__isnull=True) | Q(effective_until__gt=as_of)
    )


@dataclass(frozen=True)
class ConsequenceInEffect:
    id: int
    organisation_id: int
    kind: ConsequenceKind
    effective_from: date
    effective_until: date | None
    tiers_dropped: int
    reason: str


def consequences_in_effect(
    *,
    organisation_ids: Iterable[int],
    as_of: date,
    kinds: Iterable[str] | None = None,
) -> dict[int, list[ConsequenceInEffect]]:
    """The consequences in effect on `as_of` (started on or before it, not ended on or before
    it), by organisation, oldest first; `kinds` limits them (e.g. `["warning"]`). Organisations
    with none are absent. One query. (Commissions does not read this: a loss of revenue share
    reaches it as the kernel's `RevenueShareStop`, which SPEC 12 lets it import.)"""
    queryset = Consequence.objects.filter(
        _in_effect(as_of), organisation_id__in=list(organisation_ids)
    )
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    result: dict[int, list[ConsequenceInEffect]] = {}
    for row in queryset.order_by("effective_from", "id"):
        result.setdefault(row.organisation_id, []).append(
            ConsequenceInEffect(
                id=row.pk,
                organisation_id=row.organisation_id,
                kind=ConsequenceKind(row.kind),
                effective_from=row.effective_from,
                effective_until=row.effective_until,
                tiers_dropped=row.tiers_dropped,
                reason=row.reason,
            )
        )
    return result


def tier_drops(*, organisation_ids: Iterable[int] | None = None, as_of: date) -> dict[int, int]:
    """How many tiers each organisation's tier run result must be lowered by on `as_of`: the
    largest tier drop in effect (drops do not add up; see decisions). Organisations without a
    drop in effect are absent. `organisation_ids=None`: every organisation. One query."""
    queryset = Consequence.objects.filter(_in_effect(as_of), kind=ConsequenceKind.TIER_DROP)
    if organisation_ids is not None:
        queryset = queryset.filter(organisation_id__in=list(organisation_ids))
    rows = queryset.values("organisation_id").annotate(levels=Max("tiers_dropped"))
    return {row["organisation_id"]: row["levels"] for row in rows}


# --- Cases, as each person may see them ---------------------------------------------------------


def _pk(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc


def is_partner(user: User) -> bool:
    return getattr(user, "role", None) in PARTNER_ROLES


def visible_cases(user: User) -> QuerySet[Escalation]:
    """The cases `user` may see: case workers every case, a PDM its partners', a partner user
    its own organisation's; nobody else any."""
    cases = Escalation.objects.select_related("organisation")
    if not can(user, EscalationAction.VIEW):
        return cases.none()
    return scope_to_user(user, cases, organisation_field="organisation")


def get_case(user: User, pk: object) -> Escalation:
    try:
        return visible_cases(user).get(pk=_pk(pk))
    except Escalation.DoesNotExist as exc:
        raise NotFound("No such escalation.") from exc


def case_list(
    user: User, *, status: str | None = None, partner_id: int | None = None
) -> QuerySet[Escalation]:
    """Cases in reach, open ones first, then the longest waiting at their step."""
    cases = visible_cases(user)
    if status in {s.value for s in rules.Status}:
        cases = cases.filter(status=status)
    if partner_id is not None:
        cases = cases.filter(organisation_id=partner_id)
    return cases.order_by("-status", "step_entered_at", "id").prefetch_related(
        Prefetch("notes", queryset=visible_notes(user), to_attr="visible_notes"),
        Prefetch(
            "transitions",
            queryset=Transition.objects.select_related("actor").order_by("seq"),
            to_attr="timeline",
        ),
    )


def visible_notes(user: User) -> QuerySet[Note]:
    """Notes `user` may read: all for staff, partner-visible ones only for a partner user."""
    notes = Note.objects.select_related("author").order_by("at", "id")
    if is_partner(user):
        return notes.filter(visibility=Visibility.PARTNER_VISIBLE)
    return notes


def case_notes(user: User, case: Escalation) -> list[Note]:
    return list(visible_notes(user).filter(escalation=case))


def case_timeline(case: Escalation) -> list[Transition]:
    """Every recorded move of a case, the opening first, with who acted."""
    return list(case.transitions.select_related("actor").order_by("seq"))


def review_queue(user: User) -> dict[rules.Step, list[Escalation]]:
    """Open cases in reach by step, the longest waiting first (the partner-ops review queue)."""
    queue: dict[rules.Step, list[Escalation]] = {step: [] for step in rules.Step}
    for case in (
        visible_cases(user).filter(status=rules.Status.OPEN).order_by("step_entered_at", "id")
    ):
        queue[rules.Step(case.step)].append(case)
    return queue


# --- Marks and consequences of a partner --------------------------------------------------------


def partner_for(user: User, pk: object, action: str) -> Organisation:
    """The partner `pk` if `user` sees it (else 404) and may do `action` on it (else 403)."""
    from partnerportal.core.access import require

    organisation = get_visible_organisation(user, pk)
    require(user, action, organisation)
    return organisation


def partner_marks(organisation: Organisation) -> list[Mark]:
    return list(
        Mark.objects.filter(organisation=organisation)
        .select_related("escalation")
        .order_by("-effective_on", "-id")
    )


def visible_marks(user: User) -> QuerySet[Mark]:
    marks = Mark.objects.select_related("organisation", "escalation")
    if not can(user, EscalationAction.MARKS_VIEW):
        return marks.none()
    return scope_to_user(user, marks, organisation_field="organisation")


def partner_consequences(organisation: Organisation) -> list[Consequence]:
    return list(
        Consequence.objects.filter(organisation=organisation).order_by("-effective_from", "-id")
    )


def get_consequence(user: User, pk: object) -> Consequence:
    consequences = Consequence.objects.select_related("organisation")
    if not can(user, EscalationAction.CONSEQUENCES_VIEW):
        raise NotFound("No such consequence.")
    try:
        return scope_to_user(user, consequences, organisation_field="organisation").get(pk=_pk(pk))
    except Consequence.DoesNotExist as exc:
        raise NotFound("No such consequence.") from exc


def partner_choices(user: User) -> list[tuple[int, str]]:
    """Partners a case worker may raise a complaint about (the page form)."""
    from partnerportal.core.access import visible_organisations

    return list(visible_organisations(user).order_by("name").values_list("pk", "name"))


def visible_consequences(user: User, *, partner_id: int | None = None) -> QuerySet[Consequence]:
    consequences = Consequence.objects.select_related("organisation")
    if not can(user, EscalationAction.CONSEQUENCES_VIEW):
        return consequences.none()
    consequences = scope_to_user(user, consequences, organisation_field="organisation")
    if partner_id is not None:
        consequences = consequences.filter(organisation_id=partner_id)
    return consequences.order_by("-effective_from", "-id")
