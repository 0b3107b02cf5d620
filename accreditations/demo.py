"""Demo accreditations (after the demo tier runs): one active, applied for through the real
service by the Elite demo partner; one in grace and one revoked, with the reviews that put
them there. A review cannot be replayed before an accreditation is issued, so those two are
written as the history the last reviews would have left (with their review records and an
audit row saying so)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from partnerportal.core.audit import audit
from partnerportal.core.models import Organisation, Role, User

from . import rules, services
from .inputs import CertificationInput
from .models import Accreditation, AccreditationReview, ReviewRun
from .presenters import KIND_WORDS, STATUS_WORDS

ACTIVE = ("Summit Partners", "admin@summit.example", rules.Kind.CRM_IMPLEMENTATION)
GRACE = ("Northwind Digital", "admin@northwind.example", rules.Kind.ONBOARDING)
REVOKED = ("Bluepeak Agency", "admin@bluepeak.example", rules.Kind.DATA_MIGRATION)


def _last_reviews(today: date) -> tuple[date, date]:
    """The last two review dates on or before `today` (earlier first)."""
    dates = [
        date(year, month, rules.REVIEW_DAY)
        for year in (today.year - 1, today.year)
        for month in rules.REVIEW_MONTHS
    ]
    past = [d for d in dates if d <= today]
    return past[-2], past[-1]


def _history(
    *,
    ops: User,
    run: ReviewRun,
    organisation: Organisation,
    applicant: User,
    kind: rules.Kind,
    issued_on: date,
    steps: list[tuple[date, rules.Outcome, rules.Status, rules.Status]],
    next_review: date,
) -> Accreditation:
    reasons = [rules.Reason(rules.Cause.BELOW_PLATINUM).code()]
    final = steps[-1][3]
    accreditation = Accreditation.objects.create(
        organisation=organisation,
        kind=kind.value,
        status=final.value,
        reasons=reasons,
        applied_by=applicant,
        issued_on=issued_on,
        expires_on=rules.valid_until(issued_on),
        grace_since=steps[-1][0] if final == rules.Status.GRACE else None,
        grace_until=next_review if final == rules.Status.GRACE else None,
    )
    for review_date, outcome, before, after in steps:
        AccreditationReview.objects.create(
            accreditation=accreditation,
            review_date=review_date,
            run=run,
            outcome=outcome.value,
            status_before=before.value,
            status_after=after.value,
            reasons=reasons,
            tier=organisation.tier,
            expires_on_after=accreditation.expires_on,
        )
    audit(
        actor=ops,
        verb="accreditations.demo.loaded",
        subject=accreditation,
        organisation=organisation,
        data={"kind": kind.value, "status": final.value, "history": "demo"},
    )
    return accreditation


def seed_demo_accreditations() -> list[str]:
    """Load the demo accreditations once; return what was done."""
    if Accreditation.objects.exists():
        return ["Demo accreditations already exist: nothing to do."]
    people = {u.email: u for u in User.objects.filter(email__endswith=".example")}
    organisations = {o.name: o for o in Organisation.objects.all()}
    ops = User.objects.filter(role=Role.PARTNER_OPS, email__endswith=".example").first()
    if ops is None or any(
        name not in organisations or email not in people
        for name, email, _ in (ACTIVE, GRACE, REVOKED)
    ):
        return ["Demo accreditations skipped: the demo program is not loaded."]
    done: list[str] = []
    today = timezone.localdate()
    earlier, last = _last_reviews(today)
    with transaction.atomic():
        name, email, kind = ACTIVE
        accreditation = services.accreditation_apply(actor=people[email], kind=kind)
        done.append(
            f"{name}: {KIND_WORDS[kind]} accreditation "
            f"{STATUS_WORDS[rules.Status(accreditation.status)].lower()}"
        )

        for org_name in (GRACE[0], REVOKED[0]):
            for code, cert_kind in (
                (rules.PROGRAM_CERTIFICATION, rules.CertificationKind.PROGRAM),
                (
                    GRACE[2].value if org_name == GRACE[0] else REVOKED[2].value,
                    rules.CertificationKind.IMPLEMENTATION,
                ),
            ):
                services.certification_record(
                    actor=ops,
                    data=CertificationInput(
                        organisation_id=organisations[org_name].pk,
                        code=code,
                        kind=cert_kind,
                        holder_email=f"lead@{org_name.split()[0].lower()}.example",
                    ),
                )
        run = ReviewRun.objects.create(
            as_of=last, trigger=ReviewRun.Trigger.COMMAND, finished_at=timezone.now()
        )
        name, email, kind = GRACE
        _history(
            ops=ops,
            run=run,
            organisation=organisations[name],
            applicant=people[email],
            kind=kind,
            issued_on=earlier - timedelta(days=40),
            steps=[(last, rules.Outcome.GRACE, rules.Status.ACTIVE, rules.Status.GRACE)],
            next_review=rules.next_review_date(last),
        )
        done.append(f"{name}: {KIND_WORDS[kind]} accreditation in grace (below Platinum)")
        name, email, kind = REVOKED
        _history(
            ops=ops,
            run=run,
            organisation=organisations[name],
            applicant=people[email],
            kind=kind,
            issued_on=earlier - timedelta(days=120),
            steps=[
                (earlier, rules.Outcome.GRACE, rules.Status.ACTIVE, rules.Status.GRACE),
                (last, rules.Outcome.REVOKED, rules.Status.GRACE, rules.Status.REVOKED),
            ],
            next_review=rules.next_review_date(last),
        )
        done.append(f"{name}: {KIND_WORDS[kind]} accreditation revoked (still below Platinum)")
    return done
