"""Pure rules of accreditations (SPEC 8): who may hold one, what a review does with it.

Plain values in, plain values out: no ORM, no clock (every date is an argument). The
services read the facts (the partner's tier from the organisation, the certifications its team
holds on a date, its marks on record) and write what these rules decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from partnerportal.core.errors import InvalidInput, StateConflict

#: An accreditation is valid this many years from issue, and a renewal adds as many (SPEC 8).
VALIDITY_YEARS = 2
#: Reviews run on the 15th of these months (SPEC 8).
REVIEW_MONTHS: tuple[int, ...] = (1, 7)
REVIEW_DAY = 15
#: More than this many marks on record sends an application or a renewal to the board.
MAX_MARKS_WITHOUT_BOARD = 3
#: The tiers that may apply or renew: Platinum or above (SPEC 8). The kernel's tier codes.
ELIGIBLE_TIERS: frozenset[str] = frozenset({"platinum", "diamond", "elite"})
#: The program certification every kind requires by default (SPEC 8).
PROGRAM_CERTIFICATION = "solutions_partner"


class Kind(StrEnum):
    """The four accreditations (SPEC 8); each kind's own certification has the same code."""

    CRM_IMPLEMENTATION = "crm_implementation"
    ONBOARDING = "onboarding"
    DATA_MIGRATION = "data_migration"
    CUSTOM_INTEGRATION = "custom_integration"


class CertificationKind(StrEnum):
    SOFTWARE = "software"
    IMPLEMENTATION = "implementation"
    PROGRAM = "program"


class Status(StrEnum):
    ACTIVE = "active"
    GRACE = "grace"
    REVOKED = "revoked"
    EXPIRED = "expired"
    BOARD_REVIEW = "board_review"
    REJECTED = "rejected"


#: Statuses of an accreditation the partner still holds, or may still be given (the board).
LIVE_STATUSES: frozenset[Status] = frozenset({Status.ACTIVE, Status.GRACE, Status.BOARD_REVIEW})
#: Statuses a review looks at (the board's queue waits for the board).
REVIEWED_STATUSES: frozenset[Status] = frozenset({Status.ACTIVE, Status.GRACE})


class Cause(StrEnum):
    """Why a rule refused, put into grace, revoked or sent to the board (stable codes; people
    read the presenters' words)."""

    BELOW_PLATINUM = "below_platinum"
    MISSING_CERTIFICATION = "missing_certification"
    TOO_MANY_MARKS = "too_many_marks"
    NOT_RENEWED = "not_renewed"
    BOARD_REVOKED = "board_revoked"
    BOARD_REJECTED = "board_rejected"


@dataclass(frozen=True, order=True)
class Reason:
    """One cause, with the certification it names (missing certifications) or the count of
    marks (too many marks)."""

    cause: Cause
    certification: str = ""
    marks: int = 0

    def code(self) -> str:
        """The stored form: `missing_certification:crm_implementation`, `too_many_marks:4`."""
        if self.cause == Cause.MISSING_CERTIFICATION:
            return f"{self.cause.value}:{self.certification}"
        if self.cause == Cause.TOO_MANY_MARKS:
            return f"{self.cause.value}:{self.marks}"
        return self.cause.value

    @classmethod
    def parse(cls, code: str) -> Reason:
        """The reason a stored code names."""
        cause, _, detail = code.partition(":")
        if Cause(cause) == Cause.MISSING_CERTIFICATION:
            return cls(Cause.MISSING_CERTIFICATION, certification=detail)
        if Cause(cause) == Cause.TOO_MANY_MARKS:
            return cls(Cause.TOO_MANY_MARKS, marks=int(detail or 0))
        return cls(Cause(cause))


def default_requirements(kind: Kind) -> tuple[str, ...]:
    """The certifications `kind` requires unless partner ops say otherwise (SPEC 8): the
    program certification and the kind's own."""
    return (PROGRAM_CERTIFICATION, Kind(kind).value)


def check_requirement_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Return the required certification codes cleaned (lower-case, no duplicates, sorted);
    refuse an empty list or a code that is not a code."""
    cleaned = sorted({c.strip().lower() for c in codes if c.strip()})
    if not cleaned:
        raise InvalidInput("Name at least one required certification.", field="certifications")
    for code in cleaned:
        if not code.replace("_", "").isalnum() or len(code) > 60:
            raise InvalidInput(
                f"“{code[:60]}” is not a certification code (letters, digits and underscores).",
                field="certifications",
            )
    return tuple(cleaned)


def gaps(*, tier: str, held: Iterable[str], required: Iterable[str]) -> tuple[Reason, ...]:
    """Return what keeps a partner at `tier`, whose team holds the certifications `held`, from
    an accreditation requiring `required`: below Platinum, and each required certification no
    current member holds. Empty when it may hold it (SPEC 8)."""
    held_codes = set(held)
    reasons: list[Reason] = []
    if tier not in ELIGIBLE_TIERS:
        reasons.append(Reason(Cause.BELOW_PLATINUM))
    reasons.extend(
        Reason(Cause.MISSING_CERTIFICATION, certification=code)
        for code in sorted(set(required))
        if code not in held_codes
    )
    return tuple(reasons)


def needs_board(marks: int) -> bool:
    """Whether more than three marks on record send the partner to the board (SPEC 8)."""
    return marks > MAX_MARKS_WITHOUT_BOARD


def years_later(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February gives the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def valid_until(issued_on: date) -> date:
    """The expiry of an accreditation issued (or renewed) on `issued_on`: 2 years on."""
    return years_later(issued_on, VALIDITY_YEARS)


def is_review_date(day: date) -> bool:
    """Whether `day` is a review date (15 January, 15 July)."""
    return day.day == REVIEW_DAY and day.month in REVIEW_MONTHS


def next_review_date(after: date) -> date:
    """The first review date strictly after `after`."""
    for year in (after.year, after.year + 1):
        for month in REVIEW_MONTHS:
            day = date(year, month, REVIEW_DAY)
            if day > after:
                return day
    raise AssertionError("unreachable: a review falls within any twelve months")


@dataclass(frozen=True)
class Application:
    """The decision on an application: its status, reasons and validity."""

    status: Status
    reasons: tuple[Reason, ...]
    issued_on: date | None
    expires_on: date | None


def decide_application(
    *, tier: str, held: Iterable[str], required: Iterable[str], marks: int, today: date
) -> Application:
    """Decide a partner's application (SPEC 8): rejected with the reasons when it is below
    Platinum or misses a required certification; with more than three marks on record, the
    board decides; otherwise active for two years from today."""
    reasons = gaps(tier=tier, held=held, required=required)
    if reasons:
        return Application(Status.REJECTED, reasons, issued_on=None, expires_on=None)
    if needs_board(marks):
        return Application(
            Status.BOARD_REVIEW,
            (Reason(Cause.TOO_MANY_MARKS, marks=marks),),
            issued_on=None,
            expires_on=None,
        )
    return Application(Status.ACTIVE, (), issued_on=today, expires_on=valid_until(today))


class Outcome(StrEnum):
    """What a review did to one accreditation (every outcome is recorded with its reasons)."""

    KEPT = "kept"
    RENEWED = "renewed"
    GRACE = "grace"
    RECOVERED = "recovered"
    REVOKED = "revoked"
    EXPIRED = "expired"
    BOARD = "board"


@dataclass(frozen=True)
class Review:
    """A review's decision for one accreditation."""

    outcome: Outcome
    status: Status
    reasons: tuple[Reason, ...]
    expires_on: date | None


def review(
    *,
    status: Status,
    expires_on: date | None,
    tier: str,
    held: Iterable[str],
    required: Iterable[str],
    marks: int,
    review_date: date,
) -> Review:
    """Decide what the review of `review_date` does to an active or in-grace accreditation.

    - Past its expiry (not renewed in time): expired.
    - Falling below Platinum or missing a required certification: an active accreditation
      enters grace until the next review; one already in grace is revoked (the cause remains).
    - Expiring before the next review: it is due for renewal, which checks the same rules; with
      more than three marks on record the board decides, otherwise it is renewed for two more
      years from its expiry.
    - Otherwise kept (an accreditation in grace whose cause has gone recovers).
    """
    status = Status(status)
    if status not in REVIEWED_STATUSES:
        raise StateConflict(f"A review does not decide an accreditation that is {status}.")
    if expires_on is not None and expires_on <= review_date:
        return Review(Outcome.EXPIRED, Status.EXPIRED, (Reason(Cause.NOT_RENEWED),), expires_on)
    reasons = gaps(tier=tier, held=held, required=required)
    if reasons:
        if status == Status.GRACE:
            return Review(Outcome.REVOKED, Status.REVOKED, reasons, expires_on)
        return Review(Outcome.GRACE, Status.GRACE, reasons, expires_on)
    due = expires_on is not None and expires_on < next_review_date(review_date)
    if due and needs_board(marks):
        return Review(
            Outcome.BOARD,
            Status.BOARD_REVIEW,
            (Reason(Cause.TOO_MANY_MARKS, marks=marks),),
            expires_on,
        )
    if due and expires_on is not None:
        return Review(Outcome.RENEWED, Status.ACTIVE, (), valid_until(expires_on))
    if status == Status.GRACE:
        return Review(Outcome.RECOVERED, Status.ACTIVE, (), expires_on)
    return Review(Outcome.KEPT, Status.ACTIVE, (), expires_on)


class BoardVerdict(StrEnum):
    """The accreditation board's decision on an accreditation in its queue."""

    GRANT = "grant"  # issue (an application) or renew (a renewal)
    REFUSE = "refuse"  # reject (an application) or revoke (a renewal)


@dataclass(frozen=True)
class BoardDecision:
    status: Status
    reasons: tuple[Reason, ...]
    issued_on: date | None
    expires_on: date | None


def decide_board(
    *,
    verdict: BoardVerdict,
    issued_on: date | None,
    expires_on: date | None,
    today: date,
) -> BoardDecision:
    """Apply the board's verdict (SPEC 8) to an accreditation in `board_review`: an
    application (never issued) is issued for two years from today or rejected; a renewal is
    renewed for two more years from its expiry (from today if it has passed) or revoked."""
    verdict = BoardVerdict(verdict)
    renewal = issued_on is not None
    if verdict == BoardVerdict.GRANT:
        if renewal and expires_on is not None:
            start = max(expires_on, today)
            return BoardDecision(Status.ACTIVE, (), issued_on, valid_until(start))
        return BoardDecision(Status.ACTIVE, (), today, valid_until(today))
    if renewal:
        return BoardDecision(Status.REVOKED, (Reason(Cause.BOARD_REVOKED),), issued_on, expires_on)
    return BoardDecision(Status.REJECTED, (Reason(Cause.BOARD_REJECTED),), None, None)


def held_on(certifications: Iterable[tuple[str, date | None]], *, on: date) -> frozenset[str]:
    """The codes of `certifications` ((code, expiry or None)) held on `on`: not expired (a
    certification expiring on a day is no longer held that day)."""
    return frozenset(code for code, expiry in certifications if expiry is None or expiry > on)


def requirements_of(kind: Kind, configured: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The certifications `kind` requires: partner ops' list, else the default."""
    codes = configured.get(Kind(kind).value)
    return tuple(sorted(codes)) if codes else default_requirements(kind)
