"""What people read about escalations: the words for each step, status, outcome, note
visibility, consequence kind and move, keyed by the enums of `rules`, so that a new code without
words fails a test (`escalations/tests/test_presenters.py`) instead of showing raw on a page.
Pure: no queries; the views pass in what they loaded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from .rules import (
    CLOSED,
    STEP_OWNERS,
    ConsequenceKind,
    Move,
    Outcome,
    Status,
    Step,
    Visibility,
)

STEP_WORDS: Mapping[Step, str] = {
    Step.COMPLAINT: "Complaint",
    Step.MEDIATION: "Mediation",
    Step.OPS_ESCALATION: "Partner ops escalation",
    Step.REVIEW_BOARD: "Mark on record review board",
}

# What each step is for (the case page says it under the step).
STEP_OBJECTIVES: Mapping[Step, str] = {
    Step.COMPLAINT: "Customer success works with the partner to resolve the customer's complaint.",
    Step.MEDIATION: (
        "The Service Acceleration Team mediates: the partner makes the customer whole, or the "
        "customer extends the engagement."
    ),
    Step.OPS_ESCALATION: (
        "Partner ops investigate, including financial consequences under the code of conduct, "
        "and decide whether the fault lies with the partner."
    ),
    Step.REVIEW_BOARD: "The review board decides whether the partner gets a mark on record.",
}

STATUS_WORDS: Mapping[Status, str] = {Status.OPEN: "Open", Status.CLOSED: "Closed"}

OUTCOME_WORDS: Mapping[Outcome, str] = {
    Outcome.RESOLVED: "Resolved with the customer",
    Outcome.AGREEMENT: "Agreement reached in mediation",
    Outcome.NOT_AT_FAULT: "The partner was not at fault",
    Outcome.MARK: "Mark on record",
    Outcome.NO_MARK: "No mark on record",
}

VISIBILITY_WORDS: Mapping[Visibility, str] = {
    Visibility.STAFF_ONLY: "Staff only",
    Visibility.PARTNER_VISIBLE: "Shared with the partner",
}

CONSEQUENCE_WORDS: Mapping[ConsequenceKind, str] = {
    ConsequenceKind.WARNING: "Warning notice",
    ConsequenceKind.REVENUE_SHARE_LOSS: "Loss of revenue share",
    ConsequenceKind.TIER_DROP: "Tier drop",
    ConsequenceKind.OPPORTUNITY_EXCLUSION: "Exclusion from special opportunities",
    ConsequenceKind.SUSPENSION: "Suspension",
    ConsequenceKind.TERMINATION: "Termination",
}

ROLE_WORDS: Mapping[str, str] = {
    "customer_success": "Customer success",
    "service_acceleration": "Service Acceleration Team",
    "partner_ops": "Partner ops",
}

# The owner of each step, as a person reads it (the board is partner ops with a director).
OWNER_WORDS: Mapping[Step, str] = {
    Step.COMPLAINT: ROLE_WORDS[STEP_OWNERS[Step.COMPLAINT]],
    Step.MEDIATION: ROLE_WORDS[STEP_OWNERS[Step.MEDIATION]],
    Step.OPS_ESCALATION: ROLE_WORDS[STEP_OWNERS[Step.OPS_ESCALATION]],
    Step.REVIEW_BOARD: "The review board (partner ops with a director's approval)",
}

# The words of a move button (forward moves say what happened at the step).
FORWARD_WORDS: Mapping[Step, str] = {
    Step.MEDIATION: "Not resolved: go to mediation",
    Step.OPS_ESCALATION: "No agreement: escalate to partner ops",
    Step.REVIEW_BOARD: "The partner is at fault: send to the review board",
}


def move_words(move: Move) -> str:
    if move.to == CLOSED and move.outcome is not None:
        return f"{OUTCOME_WORDS[move.outcome]}: close the case"
    return FORWARD_WORDS[Step(move.to)]


def where_words(*, step: str, status: str, outcome: str) -> str:
    """Where a case stands, in words: its step, or how it closed."""
    if status == Status.CLOSED:
        return f"Closed: {OUTCOME_WORDS[Outcome(outcome)]}" if outcome else "Closed"
    return STEP_WORDS[Step(step)]


def target_words(to: str) -> str:
    return "Closed" if to == CLOSED else STEP_WORDS[Step(to)]


def waited_words(since: datetime, now: datetime) -> str:
    """How long a case has waited at its step: "3 days", "5 hours", "less than an hour"."""
    waited = max(now - since, timedelta(0))
    if waited.days >= 1:
        return f"{waited.days} day{'s' if waited.days != 1 else ''}"
    hours = waited.seconds // 3600
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "less than an hour"
