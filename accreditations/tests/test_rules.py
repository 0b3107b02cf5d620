"""The pure accreditation rules (SPEC 8), with dates worked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from accreditations import rules
from accreditations.rules import Cause, Kind, Outcome, Reason, Status
from partnerportal.core.errors import InvalidInput, StateConflict

REQUIRED = ("crm_implementation", "solutions_partner")
HELD = frozenset(REQUIRED)


def test_default_requirements_are_the_program_certification_and_the_kinds_own() -> None:
    assert rules.default_requirements(Kind.ONBOARDING) == ("solutions_partner", "onboarding")
    assert rules.requirements_of(Kind.ONBOARDING, {}) == ("solutions_partner", "onboarding")
    assert rules.requirements_of(Kind.ONBOARDING, {"onboarding": ["inbound"]}) == ("inbound",)


@pytest.mark.parametrize(
    ("tier", "held", "expected"),
    [
        ("platinum", HELD, ()),
        ("elite", HELD, ()),
        ("gold", HELD, (Reason(Cause.BELOW_PLATINUM),)),
        (
            "platinum",
            frozenset({"solutions_partner"}),
            (Reason(Cause.MISSING_CERTIFICATION, certification="crm_implementation"),),
        ),
        (
            "untiered",
            frozenset(),
            (
                Reason(Cause.BELOW_PLATINUM),
                Reason(Cause.MISSING_CERTIFICATION, certification="crm_implementation"),
                Reason(Cause.MISSING_CERTIFICATION, certification="solutions_partner"),
            ),
        ),
    ],
)
def test_platinum_and_the_required_certifications_are_needed(
    tier: str, held: frozenset[str], expected: tuple[Reason, ...]
) -> None:
    assert rules.gaps(tier=tier, held=held, required=REQUIRED) == expected


def test_an_application_meeting_the_rules_is_active_for_two_years() -> None:
    decision = rules.decide_application(
        tier="platinum", held=HELD, required=REQUIRED, marks=3, today=date(2026, 2, 2)
    )
    assert (decision.status, decision.issued_on, decision.expires_on) == (
        Status.ACTIVE,
        date(2026, 2, 2),
        date(2028, 2, 2),
    )


def test_an_application_below_platinum_is_rejected_with_its_reasons() -> None:
    decision = rules.decide_application(
        tier="gold", held={"solutions_partner"}, required=REQUIRED, marks=0, today=date(2026, 2, 2)
    )
    assert decision.status == Status.REJECTED
    assert [r.code() for r in decision.reasons] == [
        "below_platinum",
        "missing_certification:crm_implementation",
    ]
    assert decision.expires_on is None


def test_more_than_three_marks_send_an_application_to_the_board() -> None:
    decision = rules.decide_application(
        tier="platinum", held=HELD, required=REQUIRED, marks=4, today=date(2026, 2, 2)
    )
    assert (decision.status, decision.reasons) == (
        Status.BOARD_REVIEW,
        (Reason(Cause.TOO_MANY_MARKS, marks=4),),
    )


def test_a_leap_day_issue_expires_on_28_february() -> None:
    assert rules.valid_until(date(2028, 2, 29)) == date(2030, 2, 28)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (date(2026, 1, 14), date(2026, 1, 15)),
        (date(2026, 1, 15), date(2026, 7, 15)),
        (date(2026, 7, 15), date(2027, 1, 15)),
        (date(2026, 12, 31), date(2027, 1, 15)),
    ],
)
def test_the_next_review_is_the_next_15_january_or_15_july(after: date, expected: date) -> None:
    assert rules.next_review_date(after) == expected
    assert rules.is_review_date(expected)
    assert not rules.is_review_date(date(2026, 3, 15))


def _review(status: Status, tier: str = "platinum", **kwargs: object) -> rules.Review:
    args: dict[str, object] = {
        "status": status,
        "expires_on": date(2028, 2, 2),
        "tier": tier,
        "held": HELD,
        "required": REQUIRED,
        "marks": 0,
        "review_date": date(2026, 7, 15),
    }
    args.update(kwargs)
    return rules.review(**args)  # type: ignore[arg-type]


def test_a_drop_below_platinum_puts_an_active_accreditation_into_grace() -> None:
    result = _review(Status.ACTIVE, tier="gold")
    assert (result.outcome, result.status) == (Outcome.GRACE, Status.GRACE)
    assert result.reasons == (Reason(Cause.BELOW_PLATINUM),)


def test_the_next_review_revokes_when_the_cause_remains() -> None:
    result = _review(Status.GRACE, tier="gold")
    assert (result.outcome, result.status) == (Outcome.REVOKED, Status.REVOKED)


def test_a_missing_certification_puts_into_grace_like_a_tier_drop() -> None:
    result = _review(Status.ACTIVE, held={"solutions_partner"})
    assert result.outcome == Outcome.GRACE
    assert [r.code() for r in result.reasons] == ["missing_certification:crm_implementation"]


def test_recovery_ends_the_grace() -> None:
    result = _review(Status.GRACE)
    assert (result.outcome, result.status, result.reasons) == (Outcome.RECOVERED, Status.ACTIVE, ())


def test_an_accreditation_meeting_the_rules_is_kept() -> None:
    assert _review(Status.ACTIVE).outcome == Outcome.KEPT


def test_renewal_at_the_last_review_before_expiry_adds_two_years() -> None:
    # Expires 2 February 2028, before the review of 15 July 2028: renewed at 15 January 2028.
    result = _review(Status.ACTIVE, review_date=date(2028, 1, 15))
    assert (result.outcome, result.expires_on) == (Outcome.RENEWED, date(2030, 2, 2))


def test_more_than_three_marks_at_renewal_send_it_to_the_board() -> None:
    result = _review(Status.ACTIVE, review_date=date(2028, 1, 15), marks=4)
    assert (result.outcome, result.status) == (Outcome.BOARD, Status.BOARD_REVIEW)
    # Not due for renewal yet: marks change nothing.
    assert _review(Status.ACTIVE, marks=4).outcome == Outcome.KEPT


def test_renewal_checks_the_same_rules() -> None:
    result = _review(Status.ACTIVE, tier="gold", review_date=date(2028, 1, 15), marks=4)
    assert result.outcome == Outcome.GRACE


def test_past_its_expiry_an_accreditation_expires() -> None:
    result = _review(Status.ACTIVE, expires_on=date(2026, 7, 15))
    assert (result.outcome, result.status) == (Outcome.EXPIRED, Status.EXPIRED)


def test_a_review_refuses_what_it_does_not_decide() -> None:
    with pytest.raises(StateConflict):
        _review(Status.BOARD_REVIEW)


def test_the_boards_verdicts() -> None:
    today = date(2028, 1, 20)
    granted = rules.decide_board(
        verdict=rules.BoardVerdict.GRANT, issued_on=None, expires_on=None, today=today
    )
    assert (granted.status, granted.issued_on, granted.expires_on) == (
        Status.ACTIVE,
        today,
        date(2030, 1, 20),
    )
    renewed = rules.decide_board(
        verdict=rules.BoardVerdict.GRANT,
        issued_on=date(2026, 2, 2),
        expires_on=date(2028, 2, 2),
        today=today,
    )
    assert renewed.expires_on == date(2030, 2, 2)
    revoked = rules.decide_board(
        verdict=rules.BoardVerdict.REFUSE,
        issued_on=date(2026, 2, 2),
        expires_on=date(2028, 2, 2),
        today=today,
    )
    assert (revoked.status, revoked.reasons) == (Status.REVOKED, (Reason(Cause.BOARD_REVOKED),))
    rejected = rules.decide_board(
        verdict=rules.BoardVerdict.REFUSE, issued_on=None, expires_on=None, today=today
    )
    assert rejected.status == Status.REJECTED


def test_a_certification_is_held_until_the_day_it_expires() -> None:
    held = rules.held_on(
        [("a", None), ("b", date(2026, 7, 15)), ("c", date(2026, 7, 16))], on=date(2026, 7, 15)
    )
    assert held == {"a", "c"}


def test_stored_reasons_read_back() -> None:
    for reason in (
        Reason(Cause.BELOW_PLATINUM),
        Reason(Cause.MISSING_CERTIFICATION, certification="onboarding"),
        Reason(Cause.TOO_MANY_MARKS, marks=5),
    ):
        assert Reason.parse(reason.code()) == reason


def test_required_codes_are_cleaned_and_an_empty_list_refused() -> None:
    assert rules.check_requirement_codes([" Inbound", "inbound", "solutions_partner"]) == (
        "inbound",
        "solutions_partner",
    )
    with pytest.raises(InvalidInput):
        rules.check_requirement_codes([" "])
    with pytest.raises(InvalidInput):
        rules.check_requirement_codes(["no spaces allowed"])
