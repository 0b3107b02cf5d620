"""What people read about certifications and accreditations: words keyed by the rules' enums
(a test checks every member has words), never the codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType

from . import rules

KIND_WORDS: Mapping[rules.Kind, str] = MappingProxyType(
    {
        rules.Kind.CRM_IMPLEMENTATION: "CRM Implementation",
        rules.Kind.ONBOARDING: "Onboarding",
        rules.Kind.DATA_MIGRATION: "Data Migration",
        rules.Kind.CUSTOM_INTEGRATION: "Custom Integration",
    }
)

CERTIFICATION_KIND_WORDS: Mapping[rules.CertificationKind, str] = MappingProxyType(
    {
        rules.CertificationKind.SOFTWARE: "Software",
        rules.CertificationKind.IMPLEMENTATION: "Implementation",
        rules.CertificationKind.PROGRAM: "Program",
    }
)

STATUS_WORDS: Mapping[rules.Status, str] = MappingProxyType(
    {
        rules.Status.ACTIVE: "Active",
        rules.Status.GRACE: "In grace",
        rules.Status.REVOKED: "Revoked",
        rules.Status.EXPIRED: "Expired",
        rules.Status.BOARD_REVIEW: "With the review board",
        rules.Status.REJECTED: "Rejected",
    }
)

OUTCOME_WORDS: Mapping[rules.Outcome, str] = MappingProxyType(
    {
        rules.Outcome.KEPT: "kept: every requirement still holds",
        rules.Outcome.RENEWED: "renewed for two more years",
        rules.Outcome.GRACE: "put into a grace period until the next review",
        rules.Outcome.RECOVERED: "back to active: the cause of the grace period has gone",
        rules.Outcome.REVOKED: "revoked: the cause of the grace period remained",
        rules.Outcome.EXPIRED: "expired",
        rules.Outcome.BOARD: "sent to the accreditation review board",
    }
)

VERDICT_WORDS: Mapping[rules.BoardVerdict, str] = MappingProxyType(
    {
        rules.BoardVerdict.GRANT: "Grant: issue the accreditation, or renew it",
        rules.BoardVerdict.REFUSE: "Refuse: reject the application, or revoke the accreditation",
    }
)

CAUSE_WORDS: Mapping[rules.Cause, str] = MappingProxyType(
    {
        rules.Cause.BELOW_PLATINUM: "The partner's tier is below Platinum.",
        rules.Cause.MISSING_CERTIFICATION: (
            "No current member of the team holds the {certification} certification."
        ),
        rules.Cause.TOO_MANY_MARKS: (
            "The partner has {marks} marks on record (more than three): the review board decides."
        ),
        rules.Cause.NOT_RENEWED: "It reached the end of its two years without a renewal.",
        rules.Cause.BOARD_REVOKED: "The accreditation review board revoked it.",
        rules.Cause.BOARD_REJECTED: "The accreditation review board rejected the application.",
    }
)

#: Certification codes SPEC 8 names, in words (any other code is shown as written).
CERTIFICATION_WORDS: Mapping[str, str] = MappingProxyType(
    {
        rules.PROGRAM_CERTIFICATION: "Solutions Partner",
        "inbound": "Inbound",
        "marketing_hub_software": "Marketing Hub Software",
        "sales_hub_software": "Sales Hub Software",
        "service_hub_software": "Service Hub Software",
        **{kind.value: KIND_WORDS[kind] for kind in rules.Kind},
    }
)


def certification_name(code: str) -> str:
    return CERTIFICATION_WORDS.get(code, code.replace("_", " ").capitalize())


def kind_name(kind: str) -> str:
    return KIND_WORDS[rules.Kind(kind)]


def status_name(status: str) -> str:
    return STATUS_WORDS[rules.Status(status)]


def reason_text(code: str) -> str:
    """One stored reason, in words."""
    reason = rules.Reason.parse(code)
    return CAUSE_WORDS[reason.cause].format(
        certification=certification_name(reason.certification), marks=reason.marks
    )


def reasons_text(codes: Iterable[str]) -> list[str]:
    return [reason_text(code) for code in codes]


def day(value: date | None) -> str:
    return value.strftime("%-d %B %Y") if value else "—"


def outcome_mail(
    *,
    partner: str,
    kind: str,
    outcome: rules.Outcome | rules.Status,
    reasons: Iterable[str],
    expires_on: date | None,
) -> tuple[str, str]:
    """The subject and body of the e-mail that tells an accreditation outcome."""
    what = (
        OUTCOME_WORDS[outcome]
        if isinstance(outcome, rules.Outcome)
        else STATUS_WORDS[outcome].lower()
    )
    subject = f"{kind_name(kind)} accreditation of {partner}: {what.split(':')[0]}"
    lines = [f"The {kind_name(kind)} accreditation of {partner} is {what}."]
    reasons = reasons_text(reasons)
    if reasons:
        lines += ["", "Why:", *(f"- {r}" for r in reasons)]
    if expires_on:
        lines += ["", f"Valid until {day(expires_on)}."]
    return subject, "\n".join(lines)
