"""Writes of certifications and accreditations (SPEC 8): each one permission-checked,
decided by the pure rules (`rules.py`), written and audited in one transaction; the partner's
primary contact and PDM are told each accreditation outcome through the kernel's outbox
(exactly once per event: the outbox key names the event).

The review (`review_run`) works like the tier run: a run for a date records one review per
accreditation (unique on accreditation and date), chunk by chunk, each chunk in its own
transaction; a run that stopped midway is completed by running the date again, and a second
run of a date changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from partnerportal.core import access
from partnerportal.core.audit import Audited, audit, audit_many
from partnerportal.core.errors import Forbidden, InvalidInput, NotFound, StateConflict
from partnerportal.core.models import Organisation, User
from partnerportal.core.notifications import notify, partner_contacts

from . import presenters, rules, selectors

# The typed input the services take, for callers outside the app (they reach accreditations
# through its services).
from .inputs import BoardDecisionInput, CertificationInput
from .models import (
    Accreditation,
    AccreditationRequirement,
    AccreditationReview,
    BoardDecision,
    Certification,
    ReviewRun,
)
from .permissions import AccreditationAction
from .rules import BoardVerdict, CertificationKind, Kind

__all__ = [
    "BoardDecisionInput",
    "BoardVerdict",
    "CertificationInput",
    "CertificationKind",
    "Kind",
    "ReviewRunResult",
    "accreditation_apply",
    "board_decide",
    "certification_record",
    "requirements_set",
    "review_run",
]

#: Accreditations reviewed per transaction (bounds lock time, not correctness).
DEFAULT_CHUNK_SIZE = 500


class Refusal:
    """Stable codes of the refusals this app makes (`InvalidInput.rule`)."""

    NOT_A_REVIEW_DATE = "not_a_review_date"
    REVIEW_DATE_IN_FUTURE = "review_date_in_future"


# --- Certifications (the academy's feed) ----------------------------------------------------


def _organisation(actor: User | None, organisation_id: int) -> Organisation:
    if actor is not None:
        return access.get_visible_organisation(actor, organisation_id)
    # The operator's import acts for the academy across every partner: an explicit opt-out of
    # tenant scoping (there is no caller to scope to).
    found = Organisation.objects.filter(pk=organisation_id).first()
    if found is None:
        raise NotFound("No such partner.")
    return found


@transaction.atomic
def certification_record(
    *, actor: User | None, data: CertificationInput
) -> tuple[Certification, str]:
    """Record a certification the academy reports; return it and what happened (`created`,
    `updated` when its kind or expiry changed, `unchanged`). Idempotent on partner, code and
    holder (the holder's e-mail compared without case)."""
    if actor is not None:
        access.require(actor, AccreditationAction.CERTIFICATION_RECORD)
    organisation = _organisation(actor, data.organisation_id)
    email = data.holder_email.strip().lower()
    code = data.code.strip().lower()
    existing = (
        Certification.objects.select_for_update()
        .filter(organisation=organisation, code=code, holder_email__iexact=email)
        .first()
    )
    kind = rules.CertificationKind(data.kind).value
    if existing is not None:
        if existing.kind == kind and existing.expires_on == data.expires_on:
            return existing, "unchanged"
        before = {"kind": existing.kind, "expires_on": existing.expires_on}
        existing.kind, existing.expires_on = kind, data.expires_on
        existing.save(update_fields=["kind", "expires_on"])
        audit(
            actor=actor,
            actor_label=None if actor else "academy import",
            verb="accreditations.certification.changed",
            subject=existing,
            organisation=organisation,
            data={"code": code, "kind": kind, "expires_on": data.expires_on, "before": before},
        )
        return existing, "updated"
    row = Certification.objects.create(
        organisation=organisation,
        code=code,
        kind=kind,
        holder_email=email,
        expires_on=data.expires_on,
    )
    audit(
        actor=actor,
        actor_label=None if actor else "academy import",
        verb="accreditations.certification.recorded",
        subject=row,
        organisation=organisation,
        data={"code": code, "kind": kind, "holder": email, "expires_on": data.expires_on},
    )
    return row, "created"


# --- Required certifications (data partner ops edit) ---------------------------------------


@transaction.atomic
def requirements_set(
    *, actor: User, kind: rules.Kind, certifications: Sequence[str]
) -> AccreditationRequirement:
    """Set the certifications `kind` requires (partner ops; SPEC 8), audited with the list it
    replaces."""
    access.require(actor, AccreditationAction.REQUIREMENTS_EDIT)
    kind = rules.Kind(kind)
    codes = rules.check_requirement_codes(certifications)
    before = selectors.requirements()[kind.value]
    row, _ = AccreditationRequirement.objects.select_for_update().get_or_create(
        kind=kind.value, defaults={"certifications": list(codes)}
    )
    row.certifications = list(codes)
    row.updated_at = timezone.now()
    row.save()
    audit(
        actor=actor,
        verb="accreditations.requirements.changed",
        subject=row,
        data={"kind": kind.value, "certifications": list(codes), "before": list(before)},
    )
    return row


# --- Applications ----------------------------------------------------------------------------


def _tell(
    *,
    accreditation: Accreditation,
    organisation: Organisation,
    event: str,
    outcome: rules.Outcome | rules.Status,
) -> None:
    """Queue the outcome's e-mail to the partner's primary contact and its PDM, once per event
    and person (the key names both)."""
    subject, body = presenters.outcome_mail(
        partner=organisation.name,
        kind=accreditation.kind,
        outcome=outcome,
        reasons=accreditation.reasons,
        expires_on=accreditation.expires_on,
    )
    for person in partner_contacts(organisation):
        notify(
            key=f"accreditations.accreditation.{accreditation.pk}.{event}.to.{person.pk}",
            recipient=person,
            subject=subject,
            body=body,
            organisation=organisation,
        )


@transaction.atomic
def accreditation_apply(*, actor: User, kind: rules.Kind) -> Accreditation:
    """A partner admin applies for an accreditation of `kind` for their organisation; the rules
    decide at once (active for two years, or rejected with the reasons), or, with more than
    three marks on record, the review board will (SPEC 8)."""
    organisation = actor.organisation
    if organisation is None:
        raise Forbidden("Only a partner's admin applies for an accreditation.")
    access.require(actor, AccreditationAction.APPLY, organisation)
    kind = rules.Kind(kind)
    # Serialise applications of one partner, so two at once make one accreditation.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    organisation.refresh_from_db(fields=["tier", "name", "pdm"])
    live = Accreditation.objects.filter(
        organisation=organisation, kind=kind.value, status__in=list(rules.LIVE_STATUSES)
    ).first()
    if live is not None:
        raise StateConflict(
            f"Your {presenters.kind_name(kind)} accreditation is "
            f"{presenters.status_name(live.status).lower()}: there is nothing to apply for. It is "
            "renewed at the review before it expires."
        )
    today = timezone.localdate()
    decision = rules.decide_application(
        tier=organisation.tier,
        held=selectors.held_codes(org_ids=[organisation.pk], as_of=today).get(
            organisation.pk, frozenset()
        ),
        required=selectors.requirements()[kind.value],
        marks=selectors.marks_on_record(org_ids=[organisation.pk], as_of=today).get(
            organisation.pk, 0
        ),
        today=today,
    )
    accreditation = Accreditation.objects.create(
        organisation=organisation,
        kind=kind.value,
        status=decision.status.value,
        reasons=[r.code() for r in decision.reasons],
        applied_by=actor,
        issued_on=decision.issued_on,
        expires_on=decision.expires_on,
    )
    audit(
        actor=actor,
        verb="accreditations.accreditation.applied",
        subject=accreditation,
        organisation=organisation,
        data={
            "kind": kind.value,
            "status": decision.status.value,
            "reasons": accreditation.reasons,
            "tier": organisation.tier,
            "expires_on": decision.expires_on,
        },
    )
    _tell(
        accreditation=accreditation,
        organisation=organisation,
        event="applied",
        outcome=decision.status,
    )
    return accreditation


# --- The review board ----------------------------------------------------------------------


@transaction.atomic
def board_decide(*, actor: User, accreditation_id: int, data: BoardDecisionInput) -> BoardDecision:
    """Record the review board's decision on an accreditation in its queue, with the
    director's approval (partner ops; SPEC 8)."""
    access.require(actor, AccreditationAction.BOARD_DECIDE)
    accreditation = (
        selectors.visible_accreditations(actor)
        .select_for_update(of=("self",))
        .filter(pk=accreditation_id)
        .first()
    )
    if accreditation is None:
        raise NotFound("No such accreditation.")
    if accreditation.status != rules.Status.BOARD_REVIEW:
        raise StateConflict(
            "This accreditation is not waiting for the review board (it is "
            f"{presenters.status_name(accreditation.status).lower()})."
        )
    reason, director = data.reason.strip(), data.director.strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["Say why the board decided so."]
    if not director:
        errors["director"] = ["Name the director who approved the decision."]
    today = timezone.localdate()
    if data.director_approved_on > today:
        errors["director_approved_on"] = ["The director's approval cannot be in the future."]
    if errors:
        raise InvalidInput(errors=errors)
    outcome = rules.decide_board(
        verdict=data.verdict,
        issued_on=accreditation.issued_on,
        expires_on=accreditation.expires_on,
        today=today,
    )
    before = accreditation.status
    accreditation.status = outcome.status.value
    accreditation.reasons = [r.code() for r in outcome.reasons]
    accreditation.issued_on = outcome.issued_on
    accreditation.expires_on = outcome.expires_on
    accreditation.grace_since = accreditation.grace_until = None
    accreditation.updated_at = timezone.now()
    accreditation.save()
    decision = BoardDecision.objects.create(
        accreditation=accreditation,
        verdict=rules.BoardVerdict(data.verdict).value,
        reason=reason,
        director=director,
        director_approved_on=data.director_approved_on,
        decided_by=actor,
        status_after=outcome.status.value,
    )
    audit(
        actor=actor,
        verb="accreditations.board.decided",
        subject=accreditation,
        organisation=accreditation.organisation,
        reason=reason,
        data={
            "verdict": decision.verdict,
            "director": director,
            "director_approved_on": data.director_approved_on,
            "from": before,
            "to": outcome.status.value,
            "expires_on": outcome.expires_on,
        },
    )
    _tell(
        accreditation=accreditation,
        organisation=accreditation.organisation,
        event=f"board.{decision.pk}",
        outcome=outcome.status,
    )
    return decision


# --- The January/July review ---------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRunResult:
    run_id: int
    as_of: date
    reviewed: int
    changed: int


def _check_review_date(as_of: date) -> None:
    if not rules.is_review_date(as_of):
        raise InvalidInput(
            f"{as_of.isoformat()} is not a review date: reviews run on 15 January and 15 July.",
            field="as_of",
            rule=Refusal.NOT_A_REVIEW_DATE,
        )
    today = timezone.localdate()
    if as_of > today:
        raise InvalidInput(
            f"{as_of.isoformat()} is in the future (today is {today.isoformat()}).",
            field="as_of",
            rule=Refusal.REVIEW_DATE_IN_FUTURE,
        )


def _pending(as_of: date) -> QuerySet[Accreditation]:
    """Accreditations the review of `as_of` has still to decide: held (active or in grace),
    issued by then, and without a review record for the date."""
    return Accreditation.objects.filter(
        status__in=[s.value for s in rules.REVIEWED_STATUSES], issued_on__lte=as_of
    ).exclude(reviews__review_date=as_of)


def review_run(
    *,
    as_of: date,
    actor: User | None,
    trigger: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ReviewRunResult:
    """Review every held accreditation for `as_of` (15 January or 15 July, SPEC 8).

    Idempotent per date: accreditations already reviewed for `as_of` are left as they are, so
    running a date again completes a run that stopped and changes nothing else. Each chunk of
    `chunk_size` accreditations commits on its own, with its review records, the status
    changes, the audit rows and the e-mails queued.
    """
    if actor is not None:
        access.require(actor, AccreditationAction.REVIEW_RUN)
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    _check_review_date(as_of)
    trigger = trigger or (ReviewRun.Trigger.API if actor else ReviewRun.Trigger.COMMAND)
    actor_label = None
    if actor is None:
        actor_label = "scheduler" if trigger == ReviewRun.Trigger.SCHEDULE else "operator"
    with transaction.atomic():
        # Committed before the first chunk, so a run that stops midway is on record.
        run = ReviewRun.objects.create(
            as_of=as_of, trigger=trigger, requested_by=actor, started_at=timezone.now()
        )
    required = selectors.requirements()
    next_review = rules.next_review_date(as_of)
    reviewed = changed = 0
    while True:
        with transaction.atomic():
            # Serialise runs of one date: two workers never review the same accreditation.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('accreditations.review_run'), %s)",
                    [as_of.toordinal()],
                )
            chunk = list(
                _pending(as_of)
                .select_for_update(of=("self",))
                .select_related("organisation")
                .order_by("pk")[:chunk_size]
            )
            if not chunk:
                break
            done, moved = _review_chunk(
                chunk=chunk,
                as_of=as_of,
                next_review=next_review,
                required=required,
                run=run,
                actor=actor,
                actor_label=actor_label,
            )
            reviewed += done
            changed += moved
    with transaction.atomic():
        ReviewRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), reviewed=reviewed, changed=changed
        )
        if reviewed:
            audit(
                actor=actor,
                actor_label=actor_label,
                verb="accreditations.review.completed",
                subject=run,
                data={
                    "as_of": as_of,
                    "reviewed": reviewed,
                    "changed": changed,
                    "trigger": trigger,
                },
            )
    return ReviewRunResult(run_id=run.pk, as_of=as_of, reviewed=reviewed, changed=changed)


def _review_chunk(
    *,
    chunk: list[Accreditation],
    as_of: date,
    next_review: date,
    required: dict[str, tuple[str, ...]],
    run: ReviewRun,
    actor: User | None,
    actor_label: str | None,
) -> tuple[int, int]:
    """Decide and write one chunk (rows locked by the caller): the facts in three queries
    whatever the chunk's size, one INSERT of review records, one UPDATE of the accreditations
    that changed, one INSERT of audit rows."""
    org_ids = sorted({a.organisation_id for a in chunk})
    held = selectors.held_codes(org_ids=org_ids, as_of=as_of)
    marks = selectors.marks_on_record(org_ids=org_ids, as_of=as_of)
    now = timezone.now()
    records: list[AccreditationReview] = []
    updated: list[Accreditation] = []
    told: list[tuple[Accreditation, rules.Outcome]] = []
    for accreditation in chunk:
        organisation = accreditation.organisation
        before = accreditation.status
        decision = rules.review(
            status=rules.Status(before),
            expires_on=accreditation.expires_on,
            tier=organisation.tier,
            held=held.get(organisation.pk, frozenset()),
            required=required[accreditation.kind],
            marks=marks.get(organisation.pk, 0),
            review_date=as_of,
        )
        codes = [r.code() for r in decision.reasons]
        records.append(
            AccreditationReview(
                accreditation=accreditation,
                review_date=as_of,
                run=run,
                outcome=decision.outcome.value,
                status_before=before,
                status_after=decision.status.value,
                reasons=codes,
                tier=organisation.tier,
                marks=marks.get(organisation.pk, 0),
                expires_on_after=decision.expires_on,
                created_at=now,
            )
        )
        if decision.outcome == rules.Outcome.KEPT:
            continue
        accreditation.status = decision.status.value
        accreditation.reasons = codes
        accreditation.expires_on = decision.expires_on
        if decision.status == rules.Status.GRACE:
            accreditation.grace_since, accreditation.grace_until = as_of, next_review
        else:
            accreditation.grace_since = accreditation.grace_until = None
        accreditation.updated_at = now
        updated.append(accreditation)
        told.append((accreditation, decision.outcome))
    AccreditationReview.objects.bulk_create(records)
    if updated:
        Accreditation.objects.bulk_update(
            updated,
            ["status", "reasons", "expires_on", "grace_since", "grace_until", "updated_at"],
        )
    audit_many(
        actor=actor,
        actor_label=actor_label,
        verb="accreditations.accreditation.reviewed",
        events=[
            Audited(
                subject=record,
                organisation=record.accreditation.organisation,
                data={
                    "as_of": as_of.isoformat(),
                    "kind": record.accreditation.kind,
                    "outcome": record.outcome,
                    "from": record.status_before,
                    "to": record.status_after,
                    "reasons": record.reasons,
                },
            )
            for record in records
        ],
    )
    for accreditation, outcome in told:
        _tell(
            accreditation=accreditation,
            organisation=accreditation.organisation,
            event=f"review.{as_of.isoformat()}",
            outcome=outcome,
        )
    return len(records), len(updated)
