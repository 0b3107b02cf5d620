"""The January/July review over a two-year timeline, with the process clock moved
(`timezone.now`, as the tier tests move it).

Partner A (Platinum, certified) is accredited for CRM Implementation on 2 February 2026,
valid until 2 February 2028. Partner B (Platinum, certified) for Onboarding the same day.

| review      | A's tier | A                                  | B (marks)                     |
|-------------|----------|------------------------------------|-------------------------------|
| 15 Jul 2026 | Gold     | active -> grace (below Platinum)   | kept (0)                      |
| 15 Jan 2027 | Platinum | grace -> active (recovered)        | kept (0)                      |
| 15 Jul 2027 | Gold     | active -> grace                    | kept (4: not due for renewal) |
| 15 Jan 2028 | Gold     | grace -> revoked (cause remains)   | board (see below)             |

At 15 January 2028 B expires (2 February 2028) before the next review (15 July 2028): it is due
for renewal, and with four marks on record the board decides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from accreditations import services
from accreditations.inputs import BoardDecisionInput
from accreditations.models import Accreditation, AccreditationReview, ReviewRun
from accreditations.rules import BoardVerdict, Kind
from partnerportal.core.errors import InvalidInput
from partnerportal.core.models import AuditEvent, Notification, Organisation
from tests.cast import Cast

from .helpers import certify, clock_at, give_marks

pytestmark = pytest.mark.django_db

ISSUE = date(2026, 2, 2)
REVIEWS = (date(2026, 7, 15), date(2027, 1, 15), date(2027, 7, 15), date(2028, 1, 15))


def set_tier(org: Organisation, tier: str) -> None:
    Organisation.objects.filter(pk=org.pk).update(tier=tier)


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    return clock_at(monkeypatch)


@pytest.fixture
def accredited(cast: Cast, day: Callable[[date], None]) -> tuple[Accreditation, Accreditation]:
    for org in (cast.org_a, cast.org_b):
        set_tier(org, "platinum")
    certify(cast.org_a, "solutions_partner", "crm_implementation")
    certify(cast.org_b, "solutions_partner", "onboarding")
    day(ISSUE)
    a = services.accreditation_apply(actor=cast.admin_a, kind=Kind.CRM_IMPLEMENTATION)
    b = services.accreditation_apply(actor=cast.admin_b, kind=Kind.ONBOARDING)
    assert (a.status, a.issued_on, a.expires_on) == ("active", ISSUE, date(2028, 2, 2))
    assert b.status == "active"
    return a, b


def review(as_of: date, day: Callable[[date], None]) -> services.ReviewRunResult:
    day(as_of)
    return services.review_run(as_of=as_of, actor=None)


def state(accreditation: Accreditation) -> tuple[object, ...]:
    accreditation.refresh_from_db()
    return (
        accreditation.status,
        accreditation.reasons,
        accreditation.expires_on,
        accreditation.grace_until,
    )


def snapshot() -> tuple[object, ...]:
    return (
        list(Accreditation.objects.order_by("pk").values_list()),
        list(AccreditationReview.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def test_the_review_timeline_grace_recovery_revocation_and_the_board(
    cast: Cast, accredited: tuple[Accreditation, Accreditation], day: Callable[[date], None]
) -> None:
    a, b = accredited
    expiry = date(2028, 2, 2)

    # 15 July 2026: A dropped to Gold -> grace until the next review, with its cause.
    set_tier(cast.org_a, "gold")
    first = review(REVIEWS[0], day)
    assert (first.reviewed, first.changed) == (2, 1)
    assert state(a) == ("grace", ["below_platinum"], expiry, date(2027, 1, 15))
    assert state(b) == ("active", [], expiry, None)

    # 15 January 2027: A is Platinum again -> recovered, kept.
    set_tier(cast.org_a, "platinum")
    review(REVIEWS[1], day)
    assert state(a) == ("active", [], expiry, None)
    outcome = AccreditationReview.objects.get(accreditation=a, review_date=REVIEWS[1])
    assert (outcome.outcome, outcome.status_before, outcome.status_after) == (
        "recovered",
        "grace",
        "active",
    )

    # 15 July 2027: A drops again -> grace; B now has four marks, but is not due for renewal.
    set_tier(cast.org_a, "gold")
    give_marks(cast.org_b, 4, on=date(2027, 5, 1), by=cast.ops)
    review(REVIEWS[2], day)
    assert state(a)[0] == "grace"
    assert state(b)[0] == "active"

    # 15 January 2028: A is still Gold -> revoked; B expires before the next review, so it is
    # due for renewal, and with four marks the board decides.
    review(REVIEWS[3], day)
    assert state(a) == ("revoked", ["below_platinum"], expiry, None)
    assert state(b) == ("board_review", ["too_many_marks:4"], expiry, None)

    # Every accreditation has one record per review, each with its outcome and reasons.
    outcomes = list(
        AccreditationReview.objects.filter(accreditation=a)
        .order_by("review_date")
        .values_list("outcome", "reasons")
    )
    assert outcomes == [
        ("grace", ["below_platinum"]),
        ("recovered", []),
        ("grace", ["below_platinum"]),
        ("revoked", ["below_platinum"]),
    ]
    assert list(
        AccreditationReview.objects.filter(accreditation=b)
        .order_by("review_date")
        .values_list("outcome", flat=True)
    ) == ["kept", "kept", "kept", "board"]

    # A second run of a review date changes nothing.
    before = snapshot()
    again = review(REVIEWS[3], day)
    assert (again.reviewed, again.changed) == (0, 0)
    assert snapshot() == before

    # The board renews B, with the director's approval recorded: two more years from expiry.
    day(date(2028, 1, 20))
    decision = services.board_decide(
        actor=cast.ops,
        accreditation_id=b.pk,
        data=BoardDecisionInput(
            verdict=BoardVerdict.GRANT,
            reason="Marks were minor and remedied.",
            director="Dana Director",
            director_approved_on=date(2028, 1, 19),
        ),
    )
    assert (decision.director, decision.status_after) == ("Dana Director", "active")
    assert state(b) == ("active", [], date(2030, 2, 2), None)
    assert AuditEvent.objects.filter(verb="accreditations.board.decided").count() == 1


def test_a_revoked_accreditation_is_not_reviewed_again(
    cast: Cast, accredited: tuple[Accreditation, Accreditation], day: Callable[[date], None]
) -> None:
    a, _ = accredited
    set_tier(cast.org_a, "gold")
    review(REVIEWS[0], day)
    review(REVIEWS[1], day)
    assert state(a)[0] == "revoked"
    review(REVIEWS[2], day)
    assert AccreditationReview.objects.filter(accreditation=a).count() == 2


def test_a_missing_certification_puts_into_grace_and_the_certification_back_recovers(
    cast: Cast, accredited: tuple[Accreditation, Accreditation], day: Callable[[date], None]
) -> None:
    a, _ = accredited
    cast.org_a.certifications.filter(code="crm_implementation").update(expires_on=date(2026, 7, 1))
    review(REVIEWS[0], day)
    assert state(a)[:2] == ("grace", ["missing_certification:crm_implementation"])
    certify(cast.org_a, "crm_implementation", holder="new@alpha.example")
    review(REVIEWS[1], day)
    assert state(a)[0] == "active"


def test_a_review_that_stopped_midway_completes_when_run_again(
    cast: Cast,
    accredited: tuple[Accreditation, Accreditation],
    day: Callable[[date], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = accredited
    set_tier(cast.org_a, "gold")
    set_tier(cast.org_b, "gold")
    day(REVIEWS[0])
    real = services._review_chunk
    calls = {"n": 0}

    def crash_on_second_chunk(**kwargs: object) -> tuple[int, int]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker died")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_review_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        services.review_run(as_of=REVIEWS[0], actor=None, chunk_size=1)
    # The first chunk committed; the second rolled back.
    assert state(a)[0] == "grace"
    assert state(b)[0] == "active"
    assert ReviewRun.objects.get().finished_at is None

    monkeypatch.setattr(services, "_review_chunk", real)
    result = services.review_run(as_of=REVIEWS[0], actor=None, chunk_size=1)
    assert (result.reviewed, result.changed) == (1, 1)
    assert state(b)[0] == "grace"
    assert AccreditationReview.objects.filter(review_date=REVIEWS[0]).count() == 2


def test_the_partner_and_its_pdm_are_told_each_outcome_exactly_once(
    cast: Cast,
    accredited: tuple[Accreditation, Accreditation],
    day: Callable[[date], None],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    from partnerportal.core.notifications import send

    a, _ = accredited
    set_tier(cast.org_a, "gold")
    review(REVIEWS[0], day)
    review(REVIEWS[0], day)  # a second run tells nobody again
    rows = Notification.objects.filter(key__contains=f".{a.pk}.review.2026-07-15.")
    assert sorted(rows.values_list("to_email", flat=True)) == [
        cast.admin_a.email,
        cast.pdm.email,
    ]
    mail.outbox.clear()
    for row in rows:
        assert send(row.pk) is True
        assert send(row.pk) is False  # a retried task sends nothing more
    assert len(mail.outbox) == 2
    assert "grace" in mail.outbox[0].subject
    assert "below Platinum" in mail.outbox[0].body
    assert "below_platinum" not in mail.outbox[0].body


def test_only_review_dates_and_not_the_future_are_reviewed(
    cast: Cast, day: Callable[[date], None]
) -> None:
    day(date(2026, 7, 15))
    with pytest.raises(InvalidInput) as not_a_date:
        services.review_run(as_of=date(2026, 3, 15), actor=None)
    assert not_a_date.value.rule == "not_a_review_date"
    with pytest.raises(InvalidInput) as future:
        services.review_run(as_of=date(2027, 1, 15), actor=None)
    assert future.value.rule == "review_date_in_future"


def test_only_partner_ops_or_the_scheduler_may_review(
    cast: Cast, day: Callable[[date], None]
) -> None:
    from django.core.exceptions import PermissionDenied

    day(date(2026, 7, 15))
    for person in (cast.admin_a, cast.pdm, cast.gs, cast.finance):
        with pytest.raises(PermissionDenied):
            services.review_run(as_of=date(2026, 7, 15), actor=person)
    assert services.review_run(as_of=date(2026, 7, 15), actor=cast.ops).reviewed == 0


def test_review_accreditations_says_what_it_did(
    cast: Cast, accredited: tuple[Accreditation, Accreditation], day: Callable[[date], None]
) -> None:
    day(REVIEWS[0])
    out = StringIO()
    call_command("review_accreditations", "--as-of", "2026-07-15", stdout=out)
    run = ReviewRun.objects.get()
    assert out.getvalue().strip() == (
        f"Review {run.pk} for 2026-07-15: 2 accreditations reviewed, 0 changed; those already "
        "reviewed for this date were left as they were."
    )
    out = StringIO()
    call_command("review_accreditations", "--as-of", "2026-07-15", stdout=out)
    assert "0 accreditations reviewed" in out.getvalue()


def test_the_review_is_scheduled_on_15_january_and_15_july() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["accreditations-half-yearly-review"]
    assert entry["task"] == "accreditations.half_yearly_review"
    schedule = entry["schedule"]
    assert schedule.month_of_year == {1, 7}  # type: ignore[attr-defined]
    assert schedule.day_of_month == {15}  # type: ignore[attr-defined]
