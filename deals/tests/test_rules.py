"""Tests of the pure deal rules: no database, no Django, explicit clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from deals.rules import (
    INVITATION_TTL,
    BpwCandidate,
    Edition,
    EligibilityResult,
    HeldLine,
    Motion,
    PoiFacts,
    PoiLinkProblem,
    PoiStatus,
    ProductKind,
    PurchasedLine,
    QuoteLine,
    Resolution,
    Rule,
    acceptance_refusal,
    acknowledgement_refusal,
    allocate_associations,
    answer_deadline,
    can_register,
    check_can_register,
    check_discount_allowed,
    check_manual_poi,
    check_poi_onboarding,
    check_quote_eligibility,
    discount_allowed,
    invitation_expires_at,
    invitation_lapsed,
    invitation_lapses_at,
    is_breach,
    is_business_day,
    manual_poi_allowed,
    manual_poi_refusal,
    next_business_day,
    ops_decision,
    poi_failure,
    poi_link_problem,
    poi_token_expires_at,
    poi_token_valid,
    product_kind,
    referral_refusal,
    resolve_best_partner_wins,
)
from partnerportal.core.errors import InvalidInput

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def credited(result: EligibilityResult) -> tuple[str, ...]:
    return tuple(line.product_line for line in result.lines if line.credited)


def line(product_line: str, edition: str | None = None, mrr: str = "100") -> QuoteLine:
    return QuoteLine(
        product_line=product_line,
        edition=None if edition is None else Edition(edition),
        mrr=Decimal(mrr),
    )


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("marketing_hub", ProductKind.HUB),
        ("sales_hub", ProductKind.HUB),
        ("service_hub", ProductKind.HUB),
        ("content_hub", ProductKind.HUB),
        ("operations_hub", ProductKind.HUB),
        ("credits", ProductKind.CREDITS),
        ("reports_addon", ProductKind.HUB_AGNOSTIC),
        ("core_seats", ProductKind.HUB_AGNOSTIC),
        ("some_future_addon", ProductKind.HUB_AGNOSTIC),
    ],
)
def test_product_kind(code: str, kind: ProductKind) -> None:
    assert product_kind(code) == kind


@pytest.mark.parametrize("code", ["", "Marketing Hub", "sales-hub", "1credits"])
def test_product_kind_rejects_malformed_codes(code: str) -> None:
    with pytest.raises(ValueError, match="product line code"):
        product_kind(code)


def test_quote_line_rejects_float_money() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        QuoteLine(product_line="credits", edition=None, mrr=100.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("product_line", "edition", "mrr", "message"),
    [
        ("sales_hub", None, "10", "needs an edition"),
        ("credits", "starter", "10", "has no edition"),
        ("core_seats", "professional", "10", "has no edition"),
        ("sales_hub", "starter", "-1", ">= 0"),
        ("sales_hub", "starter", "NaN", ">= 0"),
    ],
)
def test_quote_line_validation(
    product_line: str, edition: str | None, mrr: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        QuoteLine(product_line=product_line, edition=edition, mrr=Decimal(mrr))  # type: ignore[arg-type]


def test_quote_line_coerces_edition_strings() -> None:
    built = QuoteLine(product_line="sales_hub", edition="starter", mrr=Decimal(1))  # type: ignore[arg-type]

    assert built.edition is Edition.STARTER


# --------------------------------------------------------------------------------------------
# Quote eligibility (SPEC 5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        [line("sales_hub", "starter")],
        [line("sales_hub", "starter"), line("marketing_hub", "starter")],
        [line(hub, "starter") for hub in ("marketing_hub", "sales_hub", "service_hub")],
    ],
)
def test_starter_only_quote_is_not_eligible(lines: list[QuoteLine]) -> None:
    result = check_quote_eligibility(lines=lines, held_lines={})

    assert result.eligible is False
    assert result.failures[0].rule == Rule.STARTER_ONLY
    assert result.failures[0].product_line is None
    assert "Starter products only" in result.failures[0].message
    assert credited(result) == ()
    assert {v.rule for v in result.lines} == {Rule.STARTER_NOT_BUNDLED}


@pytest.mark.parametrize(
    "hub", ["marketing_hub", "sales_hub", "service_hub", "content_hub", "operations_hub"]
)
@pytest.mark.parametrize("edition", ["professional", "enterprise"])
def test_professional_or_enterprise_hub_is_eligible(hub: str, edition: str) -> None:
    result = check_quote_eligibility(lines=[line(hub, edition)], held_lines={})

    assert result.eligible is True
    assert result.failures == ()
    assert result.lines[0].rule == Rule.ELIGIBLE_EDITION
    assert credited(result) == (hub,)


@pytest.mark.parametrize(
    ("product_line", "rule"),
    [
        ("credits", Rule.CREDITS),
        ("reports_addon", Rule.HUB_AGNOSTIC),
        ("core_seats", Rule.HUB_AGNOSTIC),
    ],
)
def test_credits_and_hub_agnostic_products_are_eligible(product_line: str, rule: Rule) -> None:
    result = check_quote_eligibility(lines=[line(product_line)], held_lines={})

    assert result.eligible is True
    assert result.lines[0].rule == rule


@pytest.mark.parametrize("anchor", [line("marketing_hub", "professional"), line("credits")])
def test_starter_bundled_with_eligible_line_is_credited(anchor: QuoteLine) -> None:
    result = check_quote_eligibility(lines=[anchor, line("sales_hub", "starter")], held_lines={})

    assert result.eligible is True
    assert credited(result) == (anchor.product_line, "sales_hub")
    assert result.lines[1].rule == Rule.BUNDLED_STARTER


@pytest.mark.parametrize(
    ("quote_line", "held", "quote_rule"),
    [
        (
            line("marketing_hub", "professional"),
            HeldLine(edition=Edition.PROFESSIONAL),
            Rule.NO_ELIGIBLE_LINE,
        ),
        (
            line("marketing_hub", "enterprise"),
            HeldLine(edition=Edition.PROFESSIONAL),
            Rule.NO_ELIGIBLE_LINE,
        ),
        (
            line("marketing_hub", "professional"),
            HeldLine(edition=Edition.ENTERPRISE),
            Rule.NO_ELIGIBLE_LINE,
        ),
        (line("marketing_hub", "starter"), HeldLine(edition=Edition.STARTER), Rule.STARTER_ONLY),
        (line("credits"), HeldLine(edition=None), Rule.NO_ELIGIBLE_LINE),
        (line("core_seats"), HeldLine(edition=None), Rule.NO_ELIGIBLE_LINE),
    ],
)
def test_already_held_line_is_not_eligible(
    quote_line: QuoteLine, held: HeldLine, quote_rule: Rule
) -> None:
    result = check_quote_eligibility(lines=[quote_line], held_lines={quote_line.product_line: held})

    assert result.eligible is False
    assert [(f.rule, f.product_line) for f in result.failures] == [
        (quote_rule, None),
        (Rule.ALREADY_HELD, quote_line.product_line),
    ]
    assert result.lines[0].credited is False
    with pytest.raises(InvalidInput) as raised:
        result.raise_if_ineligible()
    assert raised.value.rule == quote_rule


@pytest.mark.parametrize("edition", ["professional", "enterprise"])
def test_starter_upgrade_is_eligible_when_no_other_partner_holds_it(edition: str) -> None:
    result = check_quote_eligibility(
        lines=[line("sales_hub", edition)],
        held_lines={"sales_hub": HeldLine(edition=Edition.STARTER, held_by_other_partner=False)},
    )

    assert result.eligible is True
    assert result.lines[0].rule == Rule.STARTER_UPGRADE


def test_starter_upgrade_is_not_eligible_when_another_partner_holds_it() -> None:
    result = check_quote_eligibility(
        lines=[line("sales_hub", "professional")],
        held_lines={"sales_hub": HeldLine(edition=Edition.STARTER, held_by_other_partner=True)},
    )

    assert result.eligible is False
    assert result.failures[1].rule == Rule.ALREADY_HELD
    assert "no other partner holds its sold association" in result.failures[1].message


def test_professional_to_enterprise_upgrade_is_not_eligible_even_without_a_holder() -> None:
    result = check_quote_eligibility(
        lines=[line("sales_hub", "enterprise")],
        held_lines={"sales_hub": HeldLine(edition=Edition.PROFESSIONAL)},
    )

    assert result.eligible is False
    assert result.failures[0].rule == Rule.NO_ELIGIBLE_LINE


def test_held_line_does_not_spoil_an_eligible_quote() -> None:
    result = check_quote_eligibility(
        lines=[line("marketing_hub", "professional"), line("sales_hub", "professional")],
        held_lines={"sales_hub": HeldLine(edition=Edition.PROFESSIONAL)},
    )

    assert result.eligible is True
    assert credited(result) == ("marketing_hub",)
    assert [(f.rule, f.product_line) for f in result.failures] == [(Rule.ALREADY_HELD, "sales_hub")]
    result.raise_if_ineligible()  # does not raise


def test_starter_is_not_bundled_with_a_held_line() -> None:
    result = check_quote_eligibility(
        lines=[line("marketing_hub", "professional"), line("sales_hub", "starter")],
        held_lines={"marketing_hub": HeldLine(edition=Edition.PROFESSIONAL)},
    )

    assert result.eligible is False
    assert result.failures[0].rule == Rule.NO_ELIGIBLE_LINE
    assert result.lines[1].rule == Rule.STARTER_NOT_BUNDLED


def test_empty_quote_is_not_eligible() -> None:
    result = check_quote_eligibility(lines=[], held_lines={})

    assert result.eligible is False
    assert result.failures[0].rule == Rule.EMPTY_QUOTE


def test_quote_with_a_product_line_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        check_quote_eligibility(lines=[line("credits"), line("credits")], held_lines={})


# --------------------------------------------------------------------------------------------
# Proof of involvement (SPEC 5)
# --------------------------------------------------------------------------------------------

CLOSE = date(2026, 3, 20)


@pytest.mark.parametrize(
    ("status", "approved_at", "expected"),
    [
        (PoiStatus.APPROVED, date(2026, 3, 20), None),  # on the close date
        (PoiStatus.APPROVED, date(2026, 3, 1), None),  # first day of the sale month
        (PoiStatus.APPROVED, date(2026, 3, 21), Rule.LATE_SIGNATURE),
        (PoiStatus.APPROVED, date(2026, 4, 1), Rule.LATE_SIGNATURE),
        (PoiStatus.APPROVED, date(2026, 2, 28), Rule.OUTSIDE_SALE_MONTH),
        (PoiStatus.APPROVED, date(2025, 3, 20), Rule.OUTSIDE_SALE_MONTH),
        (PoiStatus.APPROVED, utc("2026-03-20T23:59:59"), None),
        (PoiStatus.APPROVED, utc("2026-03-21T00:00:00"), Rule.LATE_SIGNATURE),
        (PoiStatus.APPROVED, utc("2026-03-01T00:00:00"), None),
        (PoiStatus.APPROVED, utc("2026-02-28T23:59:59"), Rule.OUTSIDE_SALE_MONTH),
        (PoiStatus.APPROVED, None, Rule.NOT_APPROVED),
        (PoiStatus.PENDING, None, Rule.NOT_APPROVED),
        (PoiStatus.REJECTED, date(2026, 3, 10), Rule.NOT_APPROVED),
        (PoiStatus.VOIDED, date(2026, 3, 10), Rule.NOT_APPROVED),
        ("approved", date(2026, 3, 10), None),  # plain strings (model choices) work too
    ],
)
def test_poi_counts_only_if_approved_by_close_date_in_sale_month(
    status: str, approved_at: date | datetime | None, expected: Rule | None
) -> None:
    assert poi_failure(status=status, approved_at=approved_at, close_date=CLOSE) == expected


def test_poi_approval_time_is_read_in_the_given_zone() -> None:
    # 2026-03-20 14:00 UTC is already 21 March in Sydney.
    approved_at = utc("2026-03-20T14:00:00")

    assert poi_failure(status="approved", approved_at=approved_at, close_date=CLOSE) is None
    assert poi_failure(status="approved", approved_at=approved_at, close_date=CLOSE, tz=SYDNEY) == (
        Rule.LATE_SIGNATURE
    )


def test_poi_sale_month_can_differ_from_close_date() -> None:
    assert poi_failure(
        status="approved",
        approved_at=date(2026, 3, 5),
        close_date=date(2026, 4, 2),
        sale_date=date(2026, 4, 2),
    ) == (Rule.OUTSIDE_SALE_MONTH)


def test_poi_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        poi_failure(status="approved", approved_at=datetime(2026, 3, 5), close_date=CLOSE)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("now", "used", "valid"),
    [
        (utc("2026-03-01T00:00:00"), False, True),
        (utc("2026-03-20T23:59:59"), False, True),
        (utc("2026-03-21T00:00:00"), False, False),
        (utc("2026-03-10T12:00:00"), True, False),
    ],
)
def test_poi_token_valid_until_end_of_close_date_and_single_use(
    now: datetime, used: bool, valid: bool
) -> None:
    assert poi_token_valid(expires_on=CLOSE, used=used, now=now) is valid


def test_poi_token_expiry_in_a_zone() -> None:
    expires = poi_token_expires_at(expires_on=CLOSE, tz=PARIS)

    assert expires == datetime(2026, 3, 21, tzinfo=PARIS)
    assert poi_token_valid(expires_on=CLOSE, used=False, now=utc("2026-03-20T22:59:59"), tz=PARIS)
    assert not poi_token_valid(
        expires_on=CLOSE, used=False, now=utc("2026-03-20T23:00:00"), tz=PARIS
    )


def test_provider_cannot_waive_onboarding() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_poi_onboarding(is_provider=True, provides_onboarding=True)
    assert raised.value.rule == Rule.PROVIDER_CANNOT_WAIVE_ONBOARDING

    check_poi_onboarding(is_provider=True, provides_onboarding=False)
    check_poi_onboarding(is_provider=False, provides_onboarding=True)

    # And a provider's claim is ignored when Best Partner Wins compares onboarding.
    provider = candidate(1, onboarding=True, lines={"marketing_hub"}, is_provider=True)
    partner = candidate(2, onboarding=True, lines={"sales_hub"})
    resolution = close_deal([provider, partner])
    assert resolution.rule == Rule.HIGHEST_MRR_ONBOARDING
    assert resolution.winner == 2


@pytest.mark.parametrize(
    ("status", "lines", "rule"),
    [
        ("pending", {"sales_hub"}, Rule.MANUAL_POI_NOT_ALLOWED),
        ("approved", {"sales_hub"}, Rule.MANUAL_POI_NOT_ALLOWED),
        (None, {"sales_hub"}, Rule.MANUAL_POI_NOT_ALLOWED),
        ("rejected", set(), Rule.POI_LINES_NOT_ON_QUOTE),
        ("rejected", {"sales_hub", "core_seats"}, Rule.POI_LINES_NOT_ON_QUOTE),
        ("rejected", {"sales_hub"}, None),
        ("rejected", {"sales_hub", "marketing_hub"}, None),
    ],
)
def test_manual_poi_after_rejection_with_quote_lines_only(
    status: str | None, lines: set[str], rule: Rule | None
) -> None:
    quote_lines = {"sales_hub", "marketing_hub"}
    if rule is None:
        check_manual_poi(current_poi_status=status, lines=lines, quote_lines=quote_lines)
        return
    with pytest.raises(InvalidInput) as raised:
        check_manual_poi(current_poi_status=status, lines=lines, quote_lines=quote_lines)
    assert raised.value.rule == rule


# --------------------------------------------------------------------------------------------
# Best Partner Wins (SPEC 6)
# --------------------------------------------------------------------------------------------

DOMAIN = "acme.example"
SALE_LINES = (
    PurchasedLine(product_line="marketing_hub", mrr=Decimal("800")),
    PurchasedLine(product_line="sales_hub", mrr=Decimal("400")),
    PurchasedLine(product_line="core_seats", mrr=Decimal("50")),
)


def candidate(
    registration_id: int,
    *,
    motion: Motion = Motion.PARTNER_SOURCED,
    domain: str = DOMAIN,
    status: str = PoiStatus.APPROVED,
    approved_at: date | None = date(2026, 3, 15),
    onboarding: bool = False,
    lines: set[str] | None = None,
    is_provider: bool = False,
    referred_by: int | None = None,
    acknowledged: bool = False,
    with_poi: bool = True,
) -> BpwCandidate:
    """Build registration N of partner 100 + N."""
    poi = PoiFacts(
        status=status,
        approved_at=approved_at,
        provides_onboarding=onboarding,
        lines=frozenset(lines if lines is not None else {"marketing_hub", "sales_hub"}),
    )
    return BpwCandidate(
        registration_id=registration_id,
        partner_id=100 + registration_id,
        motion=motion,
        registered_domain=domain,
        poi=poi if with_poi else None,
        is_provider=is_provider,
        referred_by=referred_by,
        acknowledged_secondary=acknowledged,
    )


def close_deal(
    candidates: list[BpwCandidate],
    *,
    onboarding_partner: int | None = None,
    domain: str = DOMAIN,
    lines: tuple[PurchasedLine, ...] = SALE_LINES,
) -> Resolution:
    return resolve_best_partner_wins(
        candidates=candidates,
        purchase_domain=domain,
        close_date=CLOSE,
        lines=lines,
        onboarding_partner=onboarding_partner,
    )


@pytest.mark.parametrize(
    ("candidates", "excluded"),
    [
        ([], ()),
        ([candidate(1, with_poi=False)], ((1, Rule.NO_POI),)),
        ([candidate(1, status=PoiStatus.PENDING, approved_at=None)], ((1, Rule.NOT_APPROVED),)),
        ([candidate(1, status=PoiStatus.REJECTED)], ((1, Rule.NOT_APPROVED),)),
        ([candidate(1, domain="other.example")], ((1, Rule.OTHER_DOMAIN),)),
        (
            [candidate(1, approved_at=date(2026, 3, 21)), candidate(2, domain="acme.test")],
            ((1, Rule.LATE_SIGNATURE), (2, Rule.OTHER_DOMAIN)),
        ),
    ],
)
def test_no_candidate(
    candidates: list[BpwCandidate], excluded: tuple[tuple[int, Rule], ...]
) -> None:
    resolution = close_deal(candidates)

    assert resolution.rule == Rule.NO_CANDIDATE
    assert resolution.winner is None
    assert resolution.tied == ()
    assert resolution.excluded == excluded
    assert "no partner is credited" in resolution.explanation


@pytest.mark.parametrize("motion", [Motion.PARTNER_SOURCED, Motion.PARTNER_ASSISTED])
def test_single_candidate_wins(motion: Motion) -> None:
    resolution = close_deal([candidate(1, motion=motion), candidate(2, with_poi=False)])

    assert resolution.rule == Rule.SINGLE_CANDIDATE
    assert resolution.winner == 1
    assert resolution.candidates == (1,)
    assert resolution.excluded == ((2, Rule.NO_POI),)


def test_single_candidate_matches_a_normalised_purchase_domain() -> None:
    resolution = close_deal(
        [candidate(1, domain="acme.example")], domain="https://WWW.Acme.Example/"
    )

    assert resolution.winner == 1


def test_late_signature_ignored() -> None:
    late = candidate(1, approved_at=date(2026, 3, 21), onboarding=True)
    on_time = candidate(2, approved_at=date(2026, 3, 20))

    resolution = close_deal([late, on_time])

    assert resolution.rule == Rule.SINGLE_CANDIDATE
    assert resolution.winner == 2
    assert resolution.excluded == ((1, Rule.LATE_SIGNATURE),)


def test_signature_outside_sale_month_ignored() -> None:
    february = candidate(1, approved_at=date(2026, 2, 27), onboarding=True)
    march = candidate(2, approved_at=date(2026, 3, 2))

    resolution = close_deal([february, march])

    assert resolution.rule == Rule.SINGLE_CANDIDATE
    assert resolution.winner == 2
    assert resolution.excluded == ((1, Rule.OUTSIDE_SALE_MONTH),)


def sourcing_setup(*, acknowledged: bool = True) -> list[BpwCandidate]:
    # The sourcing partner (registration 1) referred registration 2 for onboarding; 2 also has
    # a counting POI and even provides onboarding for the biggest line.
    return [
        candidate(1, motion=Motion.PARTNER_SOURCED),
        candidate(
            2,
            motion=Motion.PARTNER_ASSISTED,
            onboarding=True,
            referred_by=1,
            acknowledged=acknowledged,
        ),
    ]


def test_sourcing_priority() -> None:
    resolution = close_deal(sourcing_setup(), onboarding_partner=102)

    assert resolution.rule == Rule.SOURCING_PRIORITY
    assert resolution.winner == 1
    assert resolution.candidates == (1, 2)


def test_sourcing_priority_needs_written_acknowledgement() -> None:
    resolution = close_deal(sourcing_setup(acknowledged=False), onboarding_partner=102)

    assert resolution.rule == Rule.HIGHEST_MRR_ONBOARDING
    assert resolution.winner == 2


@pytest.mark.parametrize("onboarding_partner", [None, 101, 999])
def test_sourcing_priority_needs_customer_to_choose_a_referred_partner(
    onboarding_partner: int | None,
) -> None:
    # Step 3 does not apply; the acknowledged secondary is still not eligible for sold credit,
    # so the sourcing partner is the one candidate left.
    resolution = close_deal(sourcing_setup(), onboarding_partner=onboarding_partner)

    assert resolution.rule == Rule.SINGLE_CANDIDATE
    assert resolution.winner == 1
    assert (2, Rule.SECONDARY_NO_CREDIT) in resolution.excluded


def test_secondary_no_credit_even_when_it_is_the_only_signed_poi() -> None:
    _source, secondary = sourcing_setup()
    unsigned_source = candidate(1, motion=Motion.PARTNER_SOURCED, with_poi=False)

    resolution = close_deal([unsigned_source, secondary], onboarding_partner=102)

    assert resolution.rule == Rule.NO_CANDIDATE
    assert resolution.winner is None
    assert dict(resolution.excluded) == {1: Rule.NO_POI, 2: Rule.SECONDARY_NO_CREDIT}


def test_secondary_no_credit_is_never_among_the_tied() -> None:
    candidates = [
        *sourcing_setup(),
        candidate(3, motion=Motion.PARTNER_SOURCED),
    ]

    resolution = close_deal(candidates, onboarding_partner=None)

    assert resolution.rule == Rule.AWAITING_DECISION
    assert resolution.tied == (1, 3)


def test_sourcing_priority_when_chosen_referred_partner_has_no_counting_poi() -> None:
    # Referred partner 3 (chosen for onboarding) signed nothing; partner 2 was referred too.
    candidates = [
        *sourcing_setup(),
        candidate(
            3, motion=Motion.PARTNER_ASSISTED, with_poi=False, referred_by=1, acknowledged=True
        ),
    ]

    resolution = close_deal(candidates, onboarding_partner=103)

    assert resolution.rule == Rule.SOURCING_PRIORITY
    assert resolution.winner == 1


def test_sourcing_priority_does_not_beat_an_unreferred_competitor() -> None:
    candidates = [*sourcing_setup(), candidate(3, motion=Motion.PARTNER_SOURCED)]

    resolution = close_deal(candidates, onboarding_partner=102)

    # Partner 3 was not referred, so step 3 does not apply; the secondary (2) is out, and
    # nothing separates 1 and 3.
    assert resolution.rule == Rule.AWAITING_DECISION
    assert resolution.tied == (1, 3)


def test_sourcing_priority_needs_the_referrer_to_be_a_sourcing_candidate() -> None:
    candidates = [
        candidate(1, motion=Motion.PARTNER_ASSISTED),
        candidate(2, referred_by=1, acknowledged=True),
    ]

    resolution = close_deal(candidates, onboarding_partner=102)

    # No sourcing priority; the acknowledged secondary is not eligible, so 1 is alone.
    assert resolution.rule == Rule.SINGLE_CANDIDATE
    assert resolution.winner == 1


@pytest.mark.parametrize(
    ("onboarding_lines", "winner"),
    [
        # (registration 1 onboards, registration 2 onboards) -> winner
        (({"marketing_hub"}, {"sales_hub"}), 1),
        (({"sales_hub"}, {"marketing_hub"}), 2),
        (({"sales_hub", "core_seats"}, {"core_seats"}), 1),
        ((None, {"core_seats"}), 2),  # 1 does not provide onboarding at all
        (({"reports_addon"}, {"core_seats"}), 2),  # 1 onboards a line that was not purchased
    ],
)
def test_highest_mrr_onboarding(
    onboarding_lines: tuple[set[str] | None, set[str] | None], winner: int
) -> None:
    candidates = [
        candidate(rid, onboarding=lines is not None, lines=lines)
        for rid, lines in enumerate(onboarding_lines, start=1)
    ]

    resolution = close_deal(candidates)

    assert resolution.rule == Rule.HIGHEST_MRR_ONBOARDING
    assert resolution.winner == winner
    assert resolution.tied == ()
    assert "highest-MRR" in resolution.explanation


def test_highest_mrr_onboarding_with_three_candidates() -> None:
    candidates = [
        candidate(1, onboarding=True, lines={"core_seats"}),
        candidate(2, onboarding=True, lines={"marketing_hub"}),
        candidate(3, onboarding=True, lines={"sales_hub"}, motion=Motion.PARTNER_ASSISTED),
    ]

    resolution = close_deal(candidates)

    assert resolution.winner == 2
    assert "Marketing Hub" in resolution.explanation


def test_tie_then_decision() -> None:
    candidates = [candidate(1), candidate(2), candidate(3, with_poi=False)]

    tie = close_deal(candidates)

    assert tie.rule == Rule.AWAITING_DECISION
    assert tie.winner is None
    assert tie.tied == (1, 2)
    assert "partner ops must decide" in tie.explanation

    decided = ops_decision(resolution=tie, chosen=2, reason="  Customer email of 3 March.  ")

    assert decided.rule == Rule.OPS_DECISION
    assert decided.winner == 2
    assert decided.tied == (1, 2)
    assert decided.explanation.endswith("Customer email of 3 March.")


def test_tie_between_partners_onboarding_lines_of_equal_mrr() -> None:
    lines = (
        PurchasedLine(product_line="marketing_hub", mrr=Decimal("400")),
        PurchasedLine(product_line="sales_hub", mrr=Decimal("400.00")),
        PurchasedLine(product_line="core_seats", mrr=Decimal("50")),
    )
    candidates = [
        candidate(1, onboarding=True, lines={"marketing_hub"}),
        candidate(2, onboarding=True, lines={"sales_hub"}),
        candidate(3, onboarding=True, lines={"core_seats"}),
    ]

    resolution = close_deal(candidates, lines=lines)

    assert resolution.rule == Rule.AWAITING_DECISION
    assert resolution.tied == (1, 2)  # 3 onboards a smaller line: out of the tie


def test_two_providers_claiming_onboarding_are_tied() -> None:
    candidates = [
        candidate(1, onboarding=True, is_provider=True),
        candidate(2, onboarding=True, is_provider=True),
    ]

    resolution = close_deal(candidates)

    assert resolution.rule == Rule.AWAITING_DECISION
    assert resolution.tied == (1, 2)


@pytest.mark.parametrize(
    ("chosen", "reason", "rule"),
    [
        (3, "Customer asked for it.", Rule.NOT_TIED),
        (1, "", Rule.REASON_REQUIRED),
        (1, "   ", Rule.REASON_REQUIRED),
    ],
)
def test_ops_decision_validates_choice_and_reason(chosen: int, reason: str, rule: Rule) -> None:
    tie = close_deal([candidate(1), candidate(2)])

    with pytest.raises(InvalidInput) as raised:
        ops_decision(resolution=tie, chosen=chosen, reason=reason)
    assert raised.value.rule == rule


def test_ops_decision_is_final() -> None:
    decided = ops_decision(
        resolution=close_deal([candidate(1), candidate(2)]), chosen=1, reason="Reviewed."
    )

    with pytest.raises(InvalidInput) as raised:
        ops_decision(resolution=decided, chosen=2, reason="Changed our mind.")
    assert raised.value.rule == Rule.NOT_AWAITING_DECISION


def test_ops_decision_only_on_a_tie() -> None:
    single = close_deal([candidate(1)])

    with pytest.raises(InvalidInput) as raised:
        ops_decision(resolution=single, chosen=1, reason="Reviewed.")
    assert raised.value.rule == Rule.NOT_AWAITING_DECISION


def test_resolution_rule_from_a_stored_string() -> None:
    stored = Resolution(rule="awaiting_decision", winner=None, explanation="x.", tied=(1, 2))  # type: ignore[arg-type]

    assert ops_decision(resolution=stored, chosen=1, reason="ok").winner == 1


def test_explanations_never_name_a_partner() -> None:
    resolutions = [
        close_deal([]),
        close_deal([candidate(41)]),
        close_deal(sourcing_setup(), onboarding_partner=102),
        close_deal([candidate(41, onboarding=True), candidate(42)]),
        close_deal([candidate(41), candidate(42)]),
    ]

    for resolution in resolutions:
        assert resolution.explanation.endswith(".")
        assert "41" not in resolution.explanation
        assert "142" not in resolution.explanation


def test_duplicate_candidates_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        close_deal([candidate(1), candidate(1)])


def test_candidate_coerces_plain_strings() -> None:
    built = replace(candidate(1), motion="partner_assisted")  # type: ignore[arg-type]

    assert built.motion is Motion.PARTNER_ASSISTED


# --------------------------------------------------------------------------------------------
# Sold associations and upsells (SPEC 6)
# --------------------------------------------------------------------------------------------


def test_winner_gets_lines_not_held_by_another_partner() -> None:
    allocation = allocate_associations(
        winner_partner=7,
        purchased_lines=["marketing_hub", "sales_hub", "credits", "core_seats", "sales_hub"],
        existing_holders={"sales_hub": 9, "credits": 7, "core_seats": None},
    )

    assert allocation.granted == ("marketing_hub", "core_seats")
    assert allocation.kept == ("credits",)
    assert allocation.held_by_other == ("sales_hub",)


# --------------------------------------------------------------------------------------------
# Responsiveness (SPEC 5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "day", "business"),
    [
        ("US", date(2026, 7, 3), False),  # Independence Day (observed)
        ("US", date(2026, 7, 4), False),  # Saturday and Independence Day
        ("US", date(2026, 7, 6), True),
        ("US", date(2026, 12, 25), False),
        ("FR", date(2026, 5, 1), False),
        ("FR", date(2026, 5, 8), False),
        ("GB", date(2026, 5, 4), False),  # Early May bank holiday
        ("GB", date(2026, 12, 28), False),  # Boxing Day (observed)
        ("GB", date(2026, 4, 6), True),  # Easter Monday: not UK-wide (not in Scotland)
        ("us", date(2026, 7, 3), False),  # codes are case-insensitive
        ("ZZ", date(2026, 12, 25), True),  # unknown to `holidays`: weekends only
        ("ZZ", date(2026, 12, 26), False),
    ],
)
def test_business_days(country: str, day: date, business: bool) -> None:
    assert is_business_day(day=day, country=country) is business


@pytest.mark.parametrize("country", ["", "USA", "1A", "U"])
def test_country_must_be_alpha_2(country: str) -> None:
    with pytest.raises(ValueError, match="alpha-2"):
        is_business_day(day=date(2026, 1, 5), country=country)


def test_next_business_day_skips_weekend_and_holidays() -> None:
    assert next_business_day(after=date(2026, 12, 24), country="GB") == date(2026, 12, 29)
    assert next_business_day(after=date(2026, 7, 2), country="US") == date(2026, 7, 6)


@pytest.mark.parametrize(
    ("country", "asked", "due"),
    [
        # US public holidays: 17:00 next business day.
        ("US", "2026-07-03T10:00", "2026-07-06T17:00"),  # Independence Day observed (Fri)
        ("US", "2026-07-04T10:00", "2026-07-06T17:00"),  # Independence Day itself (Sat)
        ("US", "2026-07-03T00:00", "2026-07-06T17:00"),  # first second of the holiday
        ("US", "2026-07-03T23:59", "2026-07-06T17:00"),
        ("US", "2026-12-25T08:00", "2026-12-28T17:00"),  # Christmas (Fri)
        ("US", "2026-06-19T12:00", "2026-06-22T17:00"),  # Juneteenth (Fri)
        # FR
        ("FR", "2026-05-01T09:00", "2026-05-04T17:00"),  # Fête du Travail (Fri)
        ("FR", "2026-05-14T15:00", "2026-05-15T17:00"),  # Ascension (Thu)
        # GB bank holidays
        ("GB", "2026-05-04T11:00", "2026-05-05T17:00"),  # Early May bank holiday (Mon)
        ("GB", "2026-12-25T10:00", "2026-12-29T17:00"),  # Christmas; Boxing Day observed Mon
        ("GB", "2026-12-26T10:00", "2026-12-29T17:00"),  # Boxing Day (Sat)
        ("GB", "2026-04-03T10:00", "2026-04-06T17:00"),  # Good Friday
    ],
)
def test_inquiry_on_public_holiday_due_17h_next_business_day(
    country: str, asked: str, due: str
) -> None:
    assert answer_deadline(asked_at=utc(asked), country=country) == utc(due)


@pytest.mark.parametrize(
    ("country", "asked", "due"),
    [
        ("US", "2026-06-15T09:00", "2026-06-17T09:00"),  # Mon -> Wed
        ("US", "2026-06-15T00:00", "2026-06-17T00:00"),
        ("US", "2026-06-12T10:00", "2026-06-16T10:00"),  # Fri: the weekend does not count
        ("US", "2026-06-11T23:59", "2026-06-15T23:59"),  # Thu night -> Mon night
        ("US", "2026-06-13T10:00", "2026-06-17T00:00"),  # Sat: clock starts Mon 00:00
        ("US", "2026-06-14T23:59", "2026-06-17T00:00"),  # Sun
        ("US", "2026-06-18T09:00", "2026-06-23T09:00"),  # Thu, then Juneteenth + weekend
        ("US", "2026-07-02T00:00", "2026-07-07T00:00"),  # Thu, then 3 July observed
        ("US", "2026-12-24T12:00", "2026-12-29T12:00"),  # Christmas Eve
        ("FR", "2026-05-07T10:00", "2026-05-12T10:00"),  # Thu, then Victoire 1945 (Fri)
        ("FR", "2026-05-13T10:00", "2026-05-18T10:00"),  # Wed, then Ascension (Thu)
        ("GB", "2026-12-24T09:00", "2026-12-30T09:00"),  # Christmas + Boxing Day observed
        ("GB", "2026-04-02T12:00", "2026-04-07T12:00"),  # Thu, then Good Friday
        ("GB", "2026-04-06T09:00", "2026-04-08T09:00"),  # Easter Monday is not UK-wide
        ("ZZ", "2026-12-24T12:00", "2026-12-28T12:00"),  # no calendar: weekends only
    ],
)
def test_answer_due_after_48_hours_of_business_days(country: str, asked: str, due: str) -> None:
    assert answer_deadline(asked_at=utc(asked), country=country) == utc(due)


def test_deadline_days_follow_the_region_zone() -> None:
    # Thu 2 July 22:00 in New York is already the (observed) holiday in UTC.
    asked_at = datetime(2026, 7, 2, 22, 0, tzinfo=NEW_YORK)

    assert answer_deadline(asked_at=asked_at, country="US") == utc("2026-07-06T17:00")
    assert answer_deadline(asked_at=asked_at, country="US", tz=NEW_YORK) == datetime(
        2026, 7, 7, 22, 0, tzinfo=NEW_YORK
    )


def test_holiday_deadline_is_17h_local() -> None:
    asked_at = datetime(2026, 5, 1, 9, 0, tzinfo=PARIS)

    due = answer_deadline(asked_at=asked_at, country="FR", tz=PARIS)

    assert due == datetime(2026, 5, 4, 17, 0, tzinfo=PARIS)
    assert due == utc("2026-05-04T15:00")


def test_deadline_counts_elapsed_hours_across_a_dst_change() -> None:
    # Paris moves to summer time on Sunday 29 March 2026; Fri 27 -> Tue 31, same wall time.
    asked_at = datetime(2026, 3, 27, 10, 0, tzinfo=PARIS)

    assert answer_deadline(asked_at=asked_at, country="FR", tz=PARIS) == datetime(
        2026, 3, 31, 10, 0, tzinfo=PARIS
    )


@pytest.mark.parametrize(
    ("asked", "answered", "breach"),
    [
        ("2026-06-15T09:00:00", "2026-06-15T09:05:00", False),
        ("2026-06-15T09:00:00", "2026-06-17T09:00:00", False),  # exactly at the deadline
        ("2026-06-15T09:00:00", "2026-06-17T09:00:01", True),  # one second after
        ("2026-06-12T10:00:00", "2026-06-16T10:00:00", False),  # over a weekend
        ("2026-06-12T10:00:00", "2026-06-16T10:00:01", True),
        ("2026-07-03T10:00:00", "2026-07-06T17:00:00", False),  # holiday: 17:00 next day
        ("2026-07-03T10:00:00", "2026-07-06T17:00:01", True),
        ("2026-12-25T10:00:00", "2026-12-28T16:59:59", False),
        ("2026-12-25T10:00:00", "2026-12-28T17:00:01", True),
    ],
)
def test_answer_after_48_business_hours_is_breach(asked: str, answered: str, breach: bool) -> None:
    assert is_breach(asked_at=utc(asked), answered_at=utc(answered), country="US") is breach


@pytest.mark.parametrize(
    ("now", "breach"),
    [("2026-06-17T09:00:00", False), ("2026-06-17T09:00:01", True)],
)
def test_unanswered_inquiry_is_breach_once_overdue(now: str, breach: bool) -> None:
    assert (
        is_breach(asked_at=utc("2026-06-15T09:00"), answered_at=None, country="US", now=utc(now))
        is breach
    )


def test_unanswered_inquiry_needs_now() -> None:
    with pytest.raises(ValueError, match="now"):
        is_breach(asked_at=utc("2026-06-15T09:00"), answered_at=None, country="US")


def test_answer_deadline_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        answer_deadline(asked_at=datetime(2026, 6, 15, 9), country="US")  # noqa: DTZ001


# --------------------------------------------------------------------------------------------
# Invitations (SPEC 5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "accepted", "lapsed"),
    [
        ("2026-06-15T09:00:00", False, False),
        ("2026-06-18T08:59:59", False, False),
        ("2026-06-18T09:00:00", False, False),  # exactly 72 hours: still in time
        ("2026-06-18T09:00:01", False, True),  # one second after
        ("2026-07-18T09:00:00", False, True),
        ("2026-07-18T09:00:00", True, False),  # accepted invitations never lapse
    ],
)
def test_invitation_lapses_after_72_hours(now: str, accepted: bool, lapsed: bool) -> None:
    invited_at = utc("2026-06-15T09:00:00")

    assert invitation_expires_at(invited_at=invited_at) == utc("2026-06-18T09:00:00")
    assert invitation_lapsed(invited_at=invited_at, now=utc(now), accepted=accepted) is lapsed


def test_invitation_lapses_after_72_elapsed_hours_across_dst() -> None:
    # New York springs forward on Sunday 8 March 2026: 72 hours later is 1 hour later on the
    # wall clock.
    invited_at = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)

    expires = invitation_expires_at(invited_at=invited_at)

    assert expires.astimezone(UTC) - invited_at.astimezone(UTC) == INVITATION_TTL
    assert expires == datetime(2026, 3, 10, 13, 0, tzinfo=NEW_YORK)
    assert expires.utcoffset() == timedelta(hours=-4)


def test_invitation_in_a_fixed_offset_zone() -> None:
    invited_at = datetime(2026, 6, 15, 9, 0, tzinfo=timezone(timedelta(hours=2)))

    assert invitation_expires_at(invited_at=invited_at) == utc("2026-06-18T07:00:00")


# --------------------------------------------------------------------------------------------
# Registrations and discounts (SPEC 5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("own_open", "allowed"), [(0, True), (1, False), (2, False)])
def test_one_open_registration_per_partner_and_domain(own_open: int, allowed: bool) -> None:
    assert can_register(own_open_registrations_on_domain=own_open) is allowed


def test_duplicate_registration_error_names_the_rule_and_no_partner() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_can_register(domain="acme.example", own_open_registrations_on_domain=1)

    assert raised.value.rule == Rule.DUPLICATE_REGISTRATION
    assert str(raised.value) == "You already have an open deal on acme.example."


def test_registration_count_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        can_register(own_open_registrations_on_domain=-1)


@pytest.mark.parametrize(
    ("discount", "approval", "allowed"),
    [
        ("0", False, True),
        ("0.00", False, True),
        ("0.01", False, False),
        ("15", False, False),
        ("15", True, True),
        ("0", True, True),
    ],
)
def test_discount_needs_written_approval(discount: str, approval: bool, allowed: bool) -> None:
    assert discount_allowed(discount=Decimal(discount), approval_present=approval) is allowed


def test_unapproved_discount_error_names_the_rule() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_discount_allowed(
            product_line="marketing_hub", discount=Decimal("10"), approval_present=False
        )

    assert raised.value.rule == Rule.DISCOUNT_NOT_APPROVED
    assert "Marketing Hub" in raised.value.message


@pytest.mark.parametrize("discount", [Decimal("-1"), 10.0])
def test_discount_must_be_a_non_negative_decimal(discount: Decimal) -> None:
    with pytest.raises((ValueError, TypeError)):
        discount_allowed(discount=discount, approval_present=True)


# --------------------------------------------------------------------------------------------
# What a partner may do (one home for the services and the pages)
# --------------------------------------------------------------------------------------------

EXPIRES = utc("2026-03-13T10:00:00")


@pytest.mark.parametrize(
    ("invited", "expires_at", "deal_open", "now", "refused"),
    [
        (True, EXPIRES, True, utc("2026-03-13T09:59:59"), None),
        (True, EXPIRES, True, EXPIRES, None),  # at the expiry instant: in time
        (True, EXPIRES, True, utc("2026-03-13T10:00:01"), "lapsed"),
        (False, EXPIRES, True, utc("2026-03-12T10:00:00"), "no open invitation"),
        (True, None, True, utc("2026-03-12T10:00:00"), "no open invitation"),
        (True, EXPIRES, False, utc("2026-03-12T10:00:00"), "closed"),
    ],
)
def test_acceptance_refusal(
    invited: bool, expires_at: datetime | None, deal_open: bool, now: datetime, refused: str | None
) -> None:
    refusal = acceptance_refusal(
        invited=invited, expires_at=expires_at, deal_open=deal_open, now=now
    )
    assert refusal is None if refused is None else refused in (refusal or "")


@pytest.mark.parametrize(
    ("motion", "active", "deal_open", "allowed"),
    [
        (Motion.PARTNER_SOURCED, True, True, True),
        (Motion.PARTNER_ASSISTED, True, True, False),
        (Motion.PARTNER_SOURCED, False, True, False),
        (Motion.PARTNER_SOURCED, True, False, False),
    ],
)
def test_only_an_active_sourcing_registration_on_an_open_deal_refers(
    motion: Motion, active: bool, deal_open: bool, allowed: bool
) -> None:
    assert (referral_refusal(motion=motion, active=active, deal_open=deal_open) is None) is allowed


@pytest.mark.parametrize(
    ("referred", "acknowledged", "deal_open", "allowed"),
    [
        (True, False, True, True),
        (False, False, True, False),
        (True, True, True, False),
        (True, False, False, False),
    ],
)
def test_only_a_referred_partner_acknowledges_once_on_an_open_deal(
    referred: bool, acknowledged: bool, deal_open: bool, allowed: bool
) -> None:
    refusal = acknowledgement_refusal(
        referred=referred, acknowledged=acknowledged, deal_open=deal_open
    )
    assert (refusal is None) is allowed


@pytest.mark.parametrize(
    ("active", "deal_open", "status", "allowed"),
    [
        (True, True, "rejected", True),
        (True, True, "pending", False),
        (False, True, "rejected", False),
        (True, False, "rejected", False),
    ],
)
def test_a_manual_poi_follows_a_rejection_on_an_active_registration(
    active: bool, deal_open: bool, status: str, allowed: bool
) -> None:
    state_allows = manual_poi_refusal(active=active, deal_open=deal_open) is None
    assert (state_allows and manual_poi_allowed(current_poi_status=status)) is allowed


@pytest.mark.parametrize(
    ("status", "deal_open", "now", "problem"),
    [
        ("pending", True, utc("2026-03-20T23:59:59"), None),
        ("pending", True, utc("2026-03-21T00:00:00"), PoiLinkProblem.EXPIRED),
        ("pending", False, utc("2026-03-10T12:00:00"), PoiLinkProblem.CLOSED),
        ("approved", True, utc("2026-03-10T12:00:00"), PoiLinkProblem.USED),
        ("rejected", True, utc("2026-03-10T12:00:00"), PoiLinkProblem.USED),
        ("voided", True, utc("2026-03-10T12:00:00"), PoiLinkProblem.REPLACED),
    ],
)
def test_poi_link_problem(
    status: str, deal_open: bool, now: datetime, problem: PoiLinkProblem | None
) -> None:
    assert (
        poi_link_problem(status=status, deal_open=deal_open, expires_on=CLOSE, now=now) is problem
    )


def test_an_invitation_lapses_at_the_first_instant_after_its_expiry() -> None:
    invited_at = utc("2026-06-15T09:00:00")
    lapses = invitation_lapses_at(invited_at=invited_at)
    assert lapses == utc("2026-06-18T09:00:00") + timedelta(microseconds=1)
    before = lapses - timedelta(microseconds=1)
    assert invitation_lapsed(invited_at=invited_at, now=before, accepted=False) is False
    assert invitation_lapsed(invited_at=invited_at, now=lapses, accepted=False) is True
