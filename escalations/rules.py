"""The escalation machine of SPEC 9 and the standing of SPEC 2/10, as pure functions.

A case moves through four steps, each with an owner:

    complaint (customer success)  --resolved-->      closed
                                  --not resolved-->  mediation
    mediation (service accel.)    --agreement-->     closed
                                  --no agreement-->  ops_escalation
    ops_escalation (partner ops)  --not_at_fault-->  closed
                                  --at fault-->      review_board
    review_board (the board)      --mark-->          closed, and a mark on record
                                  --no_mark-->       closed

A very serious infringement opens straight at the review board. The board is partner ops
acting with a director's approval, which every board decision records. Partner ops may also act
for the owner of an earlier step (they run the program); the record says who acted in which
role. Anything else is refused with `InvalidInput` naming the moves allowed from where the case
stands.

No ORM, no request: `services`, `views` and `presenters` all ask here, so the buttons a page
shows are the moves the service accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from partnerportal.core.errors import Forbidden, InvalidInput


class Step(StrEnum):
    COMPLAINT = "complaint"
    MEDIATION = "mediation"
    OPS_ESCALATION = "ops_escalation"
    REVIEW_BOARD = "review_board"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    AGREEMENT = "agreement"
    NOT_AT_FAULT = "not_at_fault"
    MARK = "mark"
    NO_MARK = "no_mark"


class Visibility(StrEnum):
    STAFF_ONLY = "staff_only"
    PARTNER_VISIBLE = "partner_visible"


class ConsequenceKind(StrEnum):
    WARNING = "warning"
    REVENUE_SHARE_LOSS = "revenue_share_loss"
    TIER_DROP = "tier_drop"
    OPPORTUNITY_EXCLUSION = "opportunity_exclusion"
    SUSPENSION = "suspension"
    TERMINATION = "termination"


class Rule(StrEnum):
    """Codes of the refusals (the `rule` of a 400 body)."""

    MOVE_NOT_ALLOWED = "move_not_allowed"
    CASE_CLOSED = "case_closed"
    DIRECTOR_APPROVAL_REQUIRED = "director_approval_required"


CLOSED = "closed"  # the `to` of a move that ends the case
TARGETS = (Step.MEDIATION.value, Step.OPS_ESCALATION.value, Step.REVIEW_BOARD.value, CLOSED)

# Role codes (the kernel's `Role` values): the rules stay free of models.
CUSTOMER_SUCCESS = "customer_success"
SERVICE_ACCELERATION = "service_acceleration"
PARTNER_OPS = "partner_ops"


@dataclass(frozen=True)
class Move:
    """One allowed move: where the case goes (a step or `closed`) and the outcome it records
    (none for a move on to the next step)."""

    to: str
    outcome: Outcome | None = None

    @property
    def closes(self) -> bool:
        return self.to == CLOSED


MOVES: Mapping[Step, tuple[Move, ...]] = MappingProxyType(
    {
        Step.COMPLAINT: (Move(CLOSED, Outcome.RESOLVED), Move(Step.MEDIATION)),
        Step.MEDIATION: (Move(CLOSED, Outcome.AGREEMENT), Move(Step.OPS_ESCALATION)),
        Step.OPS_ESCALATION: (Move(CLOSED, Outcome.NOT_AT_FAULT), Move(Step.REVIEW_BOARD)),
        Step.REVIEW_BOARD: (Move(CLOSED, Outcome.MARK), Move(CLOSED, Outcome.NO_MARK)),
    }
)

# The role that owns each step. Partner ops may act at every step (see the module docstring).
STEP_OWNERS: Mapping[Step, str] = MappingProxyType(
    {
        Step.COMPLAINT: CUSTOMER_SUCCESS,
        Step.MEDIATION: SERVICE_ACCELERATION,
        Step.OPS_ESCALATION: PARTNER_OPS,
        Step.REVIEW_BOARD: PARTNER_OPS,
    }
)


def opening_step(*, serious: bool) -> Step:
    """Where a new case starts: the complaint, or the board for a very serious infringement."""
    return Step.REVIEW_BOARD if serious else Step.COMPLAINT


def may_act(*, step: Step, role: str) -> bool:
    """Whether someone of `role` may move a case standing at `step`."""
    return role in (STEP_OWNERS[step], PARTNER_OPS)


def allowed_moves(*, step: Step, status: Status, role: str | None = None) -> tuple[Move, ...]:
    """The moves from where a case stands (none once closed); with `role`, only those that role
    may make (the buttons a page shows)."""
    if status == Status.CLOSED:
        return ()
    if role is not None and not may_act(step=step, role=role):
        return ()
    return MOVES[step]


def describe_moves(moves: Iterable[Move]) -> str:
    """The allowed moves as an API caller writes them, e.g.
    "to=closed with outcome=agreement, or to=ops_escalation"."""
    parts = [
        f"to={move.to} with outcome={move.outcome.value}" if move.outcome else f"to={move.to}"
        for move in moves
    ]
    return ", or ".join(parts) if parts else "none"


@dataclass(frozen=True)
class Decision:
    """What a move does to the case."""

    step: Step  # the step the case is at afterwards (unchanged when it closes)
    status: Status
    outcome: Outcome | None
    creates_mark: bool


def transition(
    *,
    step: Step,
    status: Status,
    role: str,
    to: str,
    outcome: str | None,
    director_approval: str = "",
) -> Decision:
    """Decide one move of a case standing at `step`, asked by someone of `role`.

    Refuses with `Forbidden` when `role` does not own the step, with `InvalidInput` (naming the
    allowed moves) for any move not in `MOVES`, and when a board decision has no director's
    approval. Only the board's `mark` creates a mark on record."""
    if status == Status.CLOSED:
        raise InvalidInput(
            "This case is closed: no move is allowed.", field="to", rule=Rule.CASE_CLOSED
        )
    if not may_act(step=step, role=role):
        raise Forbidden(f"Only {STEP_OWNERS[step].replace('_', ' ')} act at this step.")
    known = Outcome(outcome) if outcome in {member.value for member in Outcome} else None
    wanted = Move(to, known)
    allowed = MOVES[step]
    if (outcome and known is None) or wanted not in allowed:
        raise InvalidInput(
            f"Not an allowed move from {step.value}: allowed are {describe_moves(allowed)}.",
            field="to",
            rule=Rule.MOVE_NOT_ALLOWED,
        )
    if step == Step.REVIEW_BOARD and not director_approval.strip():
        raise InvalidInput(
            "A board decision records the approving director.",
            field="director_approval",
            rule=Rule.DIRECTOR_APPROVAL_REQUIRED,
        )
    if wanted.closes:
        return Decision(
            step=step,
            status=Status.CLOSED,
            outcome=wanted.outcome,
            creates_mark=wanted.outcome == Outcome.MARK,
        )
    return Decision(step=Step(to), status=Status.OPEN, outcome=None, creates_mark=False)


# --- Standing (SPEC 2, 10) ---------------------------------------------------------------------

# The standing each consequence puts a partner in; the others leave it as it is.
_STANDING_OF: Mapping[ConsequenceKind, str] = MappingProxyType(
    {
        ConsequenceKind.WARNING: "warned",
        ConsequenceKind.SUSPENSION: "suspended",
        ConsequenceKind.TERMINATION: "terminated",
    }
)
_SEVERITY = ("good", "warned", "suspended", "terminated")


def standing_for(kinds: Iterable[ConsequenceKind]) -> str:
    """A partner's standing given the consequences in effect: the gravest of termination,
    suspension and warning; `good` with none of them."""
    standings = [_STANDING_OF[kind] for kind in kinds if kind in _STANDING_OF]
    return max(standings, key=_SEVERITY.index, default="good")


TIER_DROP_MAX = 4  # untiered < gold < platinum < diamond < elite


def check_tiers_dropped(*, kind: ConsequenceKind, tiers_dropped: int | None) -> int:
    """How many tiers a consequence drops: 1 to 4 for a tier drop (1 when unsaid), 0 for any
    other kind."""
    if kind != ConsequenceKind.TIER_DROP:
        if tiers_dropped:
            raise InvalidInput("Only a tier drop drops tiers.", field="tiers_dropped")
        return 0
    levels = 1 if tiers_dropped is None else tiers_dropped
    if not 1 <= levels <= TIER_DROP_MAX:
        raise InvalidInput(
            f"A tier drop takes off 1 to {TIER_DROP_MAX} tiers.", field="tiers_dropped"
        )
    return levels
