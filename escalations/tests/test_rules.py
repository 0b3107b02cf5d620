"""The escalation machine (SPEC 9) and the standing (SPEC 10) as pure rules: every allowed move,
a table of every forbidden one, the owners, the serious shortcut, the board's approval."""

from __future__ import annotations

import itertools

import pytest

from escalations import rules
from escalations.rules import CLOSED, Outcome, Status, Step
from partnerportal.core.errors import Forbidden, InvalidInput

CS, SAT, OPS = "customer_success", "service_acceleration", "partner_ops"
OWNER = {Step.COMPLAINT: CS, Step.MEDIATION: SAT, Step.OPS_ESCALATION: OPS, Step.REVIEW_BOARD: OPS}

# (from step, to, outcome) -> (step after, status after, outcome recorded, mark created)
ALLOWED = {
    (Step.COMPLAINT, CLOSED, "resolved"): (Step.COMPLAINT, Status.CLOSED, Outcome.RESOLVED, False),
    (Step.COMPLAINT, "mediation", None): (Step.MEDIATION, Status.OPEN, None, False),
    (Step.MEDIATION, CLOSED, "agreement"): (
        Step.MEDIATION,
        Status.CLOSED,
        Outcome.AGREEMENT,
        False,
    ),
    (Step.MEDIATION, "ops_escalation", None): (Step.OPS_ESCALATION, Status.OPEN, None, False),
    (Step.OPS_ESCALATION, CLOSED, "not_at_fault"): (
        Step.OPS_ESCALATION,
        Status.CLOSED,
        Outcome.NOT_AT_FAULT,
        False,
    ),
    (Step.OPS_ESCALATION, "review_board", None): (Step.REVIEW_BOARD, Status.OPEN, None, False),
    (Step.REVIEW_BOARD, CLOSED, "mark"): (Step.REVIEW_BOARD, Status.CLOSED, Outcome.MARK, True),
    (Step.REVIEW_BOARD, CLOSED, "no_mark"): (
        Step.REVIEW_BOARD,
        Status.CLOSED,
        Outcome.NO_MARK,
        False,
    ),
}
EVERY_ASK = [
    (step, to, outcome)
    for step, to, outcome in itertools.product(
        list(Step), [*rules.TARGETS, "complaint", "bogus"], [None, *list(Outcome), "bogus"]
    )
]
FORBIDDEN = [ask for ask in EVERY_ASK if ask not in ALLOWED]


def _move(step: Step, to: str, outcome: str | None, *, role: str | None = None) -> rules.Decision:
    return rules.transition(
        step=step,
        status=Status.OPEN,
        role=role or OWNER[step],
        to=to,
        outcome=outcome,
        director_approval="Dana Director" if step == Step.REVIEW_BOARD else "",
    )


@pytest.mark.parametrize(("step", "to", "outcome"), list(ALLOWED), ids=str)
def test_allowed_move_goes_where_spec_9_says(step: Step, to: str, outcome: str | None) -> None:
    decision = _move(step, to, outcome)
    assert (decision.step, decision.status, decision.outcome, decision.creates_mark) == ALLOWED[
        (step, to, outcome)
    ]


@pytest.mark.parametrize(("step", "to", "outcome"), FORBIDDEN, ids=str)
def test_forbidden_move_is_refused_naming_the_allowed_moves(
    step: Step, to: str, outcome: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _move(step, to, outcome)
    assert refused.value.rule == rules.Rule.MOVE_NOT_ALLOWED
    message = refused.value.errors["to"][0]
    for move in rules.MOVES[step]:
        assert f"to={move.to}" in message
        if move.outcome:
            assert f"outcome={move.outcome.value}" in message


def test_forbidden_table_covers_every_other_ask() -> None:
    assert len(ALLOWED) == 8
    assert len(FORBIDDEN) == len(EVERY_ASK) - 8


@pytest.mark.parametrize("step", list(Step))
def test_a_closed_case_allows_no_move(step: Step) -> None:
    for to, outcome in [("mediation", None), (CLOSED, "resolved"), (CLOSED, "mark")]:
        with pytest.raises(InvalidInput) as refused:
            rules.transition(
                step=step,
                status=Status.CLOSED,
                role=OPS,
                to=to,
                outcome=outcome,
                director_approval="D",
            )
        assert refused.value.rule == rules.Rule.CASE_CLOSED
    assert rules.allowed_moves(step=step, status=Status.CLOSED) == ()


@pytest.mark.parametrize(
    ("step", "role", "may"),
    [
        (Step.COMPLAINT, CS, True),
        (Step.COMPLAINT, SAT, False),
        (Step.COMPLAINT, OPS, True),
        (Step.MEDIATION, SAT, True),
        (Step.MEDIATION, CS, False),
        (Step.MEDIATION, OPS, True),
        (Step.OPS_ESCALATION, OPS, True),
        (Step.OPS_ESCALATION, CS, False),
        (Step.OPS_ESCALATION, SAT, False),
        (Step.REVIEW_BOARD, OPS, True),
        (Step.REVIEW_BOARD, SAT, False),
        (Step.REVIEW_BOARD, "pdm", False),
        (Step.REVIEW_BOARD, "partner_admin", False),
    ],
)
def test_only_the_owner_of_the_step_or_partner_ops_acts(step: Step, role: str, may: bool) -> None:
    assert rules.may_act(step=step, role=role) is may
    assert bool(rules.allowed_moves(step=step, status=Status.OPEN, role=role)) is may
    first = rules.MOVES[step][0]
    if may:
        _move(step, first.to, first.outcome, role=role)
    else:
        with pytest.raises(Forbidden):
            _move(step, first.to, first.outcome, role=role)


def test_serious_infringement_opens_at_the_review_board() -> None:
    assert rules.opening_step(serious=True) == Step.REVIEW_BOARD
    assert rules.opening_step(serious=False) == Step.COMPLAINT


@pytest.mark.parametrize("outcome", ["mark", "no_mark"])
def test_a_board_decision_records_the_approving_director(outcome: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.transition(
            step=Step.REVIEW_BOARD,
            status=Status.OPEN,
            role=OPS,
            to=CLOSED,
            outcome=outcome,
            director_approval="  ",
        )
    assert refused.value.rule == rules.Rule.DIRECTOR_APPROVAL_REQUIRED
    assert refused.value.field == "director_approval"


def test_only_the_boards_mark_creates_a_mark() -> None:
    marks = [key for key, after in ALLOWED.items() if after[3]]
    assert marks == [(Step.REVIEW_BOARD, CLOSED, "mark")]


def test_describe_moves_names_what_an_api_caller_sends() -> None:
    assert (
        rules.describe_moves(rules.MOVES[Step.MEDIATION])
        == "to=closed with outcome=agreement, or to=ops_escalation"
    )


K = rules.ConsequenceKind


@pytest.mark.parametrize(
    ("kinds", "standing"),
    [
        ([], "good"),
        ([K.REVENUE_SHARE_LOSS, K.TIER_DROP, K.OPPORTUNITY_EXCLUSION], "good"),
        ([K.WARNING], "warned"),
        ([K.WARNING, K.SUSPENSION], "suspended"),
        ([K.TERMINATION, K.WARNING, K.SUSPENSION], "terminated"),
    ],
)
def test_standing_is_the_gravest_consequence_in_effect(kinds: list[K], standing: str) -> None:
    assert rules.standing_for(kinds) == standing


def test_tier_drop_takes_one_to_four_tiers() -> None:
    assert rules.check_tiers_dropped(kind=K.TIER_DROP, tiers_dropped=None) == 1
    assert rules.check_tiers_dropped(kind=K.TIER_DROP, tiers_dropped=4) == 4
    assert rules.check_tiers_dropped(kind=K.WARNING, tiers_dropped=None) == 0
    for bad_kind, bad in [(K.TIER_DROP, 0), (K.TIER_DROP, 5), (K.WARNING, 1)]:
        with pytest.raises(InvalidInput):
            rules.check_tiers_dropped(kind=bad_kind, tiers_dropped=bad)
