"""Every role's main pages in a real browser, at a desktop width (1366 px) and a phone width
(390 px), with long values in the data (a 200-character customer name, a long domain, long
e-mail addresses) (issue 13):

- no horizontal scrolling: `document.documentElement.scrollWidth <= innerWidth`, and no card
  whose content runs out of it;
- no internal code visible: no value of the rule enums (snake_case) in the page's text;
- axe-core (the copy bundled by the pinned `axe-playwright-python`) finds no serious or
  critical violation;
- on a phone, "Sign out" is reachable (in the menu, when scripts run).

One browser context per role, signed in with a session cookie (the sign-in form itself is
tried in test_home_pages.py); each test collects every problem of its role's pages and fails
with the whole list. The form-error behaviour (a banner naming what to fix, the focus on the
first invalid field, the errors next to their fields) has its own tests below."""

from __future__ import annotations

import enum
import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from accreditations import services as accreditation_services
from accreditations.tests.helpers import certify, give_marks
from commissions import services as commission_services
from commissions.models import Statement
from commissions.rules import Quarter
from commissions.tests.steps import accrue, sourced_line
from deals import services as deal_services
from deals.inputs import ClosedLineInput
from deals.tests.test_access_pages import QUOTE, answer_poi, approve, build_world, live_poi
from escalations.inputs import EscalationInput, MoveInput
from escalations.rules import Visibility
from escalations.services import cases as escalation_services
from partnerportal.core.models import Organisation, Role, User
from tests.cast import Cast, browser_as, enrol_totp
from tests.factories import (
    ActivityFactory,
    CustomerFactory,
    SubscriptionFactory,
    SubscriptionVersionFactory,
    UserFactory,
)
from tiers import services as tier_services
from tiers.tests.test_api import MARCH, line

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# 200 characters, with a 64-character word no line break can split (as pasted from a CRM).
LONG_NAME = (
    "Consolidated Intercontinental Hospitality and Leisure Holding Co "
    "Donaudampfschifffahrtsgesellschaftskapitänsmützenfabrikationswerk "
    "International Limited Partnership, Worldwide Group of Companies, Ltd."
)
LONG_DOMAIN = (
    "customer-portal-of-the-consolidated-intercontinental-hospitalit"
    ".and-leisure-holdings-international.example.co.uk"
)
LONG_DOMAIN_B = "second-registration-on-a-very-long-customer-domain.name-for-testing.example.com"
LONG_EMAIL = (
    "growth.specialist.for.europe.middle.east.and.africa.small.business"
    "@partner-program-enterprise-solutions.example"
)
LONG_ADMIN_EMAIL = "partner.administrator.with.a.long.mailbox@alpha-agency-digital-services.example"

# The codes a person must never read: every snake_case value of the rules' enums and the
# models' choices, and the ones issue 13 found on the pages.
_ENUM_MODULES = (
    "partnerportal.core.models",
    "tiers.rules",
    "tiers.models",
    "deals.rules",
    "deals.models",
    "accreditations.rules",
    "accreditations.models",
    "commissions.rules",
    "commissions.models",
    "escalations.rules",
)
FOUND_IN_ISSUE_13 = (
    "duplicate_registration",
    "starter_only",
    "single_candidate",
    "other_domain",
    "late_signature",
    "sales_hub",
    "partner_sourced",
    "pending_approval",
)


def _enum_codes() -> set[str]:
    codes: set[str] = set()
    snake = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")

    def collect(namespace: object, depth: int) -> None:
        for value in vars(namespace).values():
            if isinstance(value, type) and issubclass(value, enum.Enum):
                codes.update(
                    str(member.value) for member in value if snake.match(str(member.value))
                )
            elif isinstance(value, type) and depth == 0 and value.__module__ == namespace.__name__:  # type: ignore[attr-defined]
                collect(value, 1)  # choices nested in a model

    for name in _ENUM_MODULES:
        collect(importlib.import_module(name), 0)
    return codes


KNOWN_CODES = sorted(_enum_codes() | set(FOUND_IN_ISSUE_13))
_CODE = re.compile(r"(?<![\w@./#-])(" + "|".join(map(re.escape, KNOWN_CODES)) + r")(?![\w@./-])")

# What a page reports about its own width: the document's, and any card, header or main
# region whose content runs out of it.
_MEASURE = """
() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const over = [...document.querySelectorAll("header, main, .card, .columns > *")]
    .filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${name(el)} (${el.scrollWidth} > ${el.clientWidth})`);
  return {width: document.documentElement.scrollWidth, inner: window.innerWidth, over};
}
"""

AXE = Axe()
# PORTAL_LAYOUT_SHOTS=<folder>: a full-page screenshot of every page checked, to look at.
SHOTS = os.environ.get("PORTAL_LAYOUT_SHOTS", "")
SERIOUS = {"serious", "critical"}


@dataclass
class Walk:
    """The problems found on one role's pages, reported together at the end."""

    page: Page
    base_url: str
    role: str = ""
    problems: list[str] = field(default_factory=list)
    pages_seen: int = 0

    def open(self, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        if response is None or response.status != 200:
            status = response.status if response else "no response"
            self.problems.append(f"{path}: HTTP {status}")

    def check(self, label: str) -> None:
        """The page as shown now: width, codes, axe-core."""
        self.pages_seen += 1
        where = f"{label} @{self.page.viewport_size['width'] if self.page.viewport_size else '?'}px"
        measure = self.page.evaluate(_MEASURE)
        if measure["width"] > measure["inner"]:
            self.problems.append(
                f"{where}: page is {measure['width']} px wide in a {measure['inner']} px window"
            )
        for item in measure["over"]:
            self.problems.append(f"{where}: content runs out of {item}")
        text = self.page.locator("body").inner_text()
        codes = sorted(set(_CODE.findall(text)))
        if codes:
            self.problems.append(f"{where}: internal codes visible: {', '.join(codes)}")
        for violation in serious_violations(self.page):
            self.problems.append(f"{where}: axe {violation}")
        if SHOTS:
            name = re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-")
            self.page.screenshot(path=f"{SHOTS}/{self.role}-{name}.png", full_page=True)

    def sign_out_reachable(self, label: str) -> None:
        """On a phone, "Sign out" shows (after opening the menu when there is one)."""
        menu = self.page.locator("#menu-toggle")
        if menu.is_visible():
            menu.click()
        sign_out = self.page.get_by_role("button", name="Sign out")
        if not sign_out.is_visible():
            self.problems.append(f"{label} @390px: Sign out is not reachable")
        else:
            box = sign_out.bounding_box()
            if box is None or box["x"] + box["width"] > PHONE["width"] or box["x"] < 0:
                self.problems.append(f"{label} @390px: Sign out is off screen ({box})")
        if menu.is_visible():
            menu.click()

    def report(self) -> None:
        if self.problems:
            pytest.fail(
                f"{len(self.problems)} problem(s) on {self.pages_seen} page views:\n"
                + "\n".join(f"- {p}" for p in self.problems),
                pytrace=False,
            )


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = AXE.run(page, options={"resultTypes": ["violations"]})
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} "
                f"[{len(violation['nodes'])} element(s): {'; '.join(targets)}]"
            )
    return lines


def sign_in_with_cookie(page: Page, base_url: str, user: User) -> None:
    """A signed-in session (second factor passed for staff), given to the browser."""
    client = browser_as(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )


def url_if_present(name: str, *args: Any) -> str | None:
    """A page of a capability still being built is walked once it has its URL."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@dataclass
class LongWorld:
    """The cast, a deal in each state, and the long values."""

    cast: Cast
    customer_success: User
    service_acceleration: User
    long_registration: int  # partner A's, quoted, on LONG_DOMAIN with LONG_NAME
    long_deal: int
    closed_deal: int  # closed on another domain: rules and exclusions to read
    tie_deal: int
    quoted_registration: int  # A's POI rejected: the manual POI form, a question to answer
    referred_registration: int  # the acknowledgement form
    poi_token: str
    case_complaint: int
    case_mediation: int
    accreditation_board: int
    accreditation_rejected: int
    quarter: str  # the quarter before today's, closed: A's statement payable, B's held
    statement_a: int
    statement_b: int


def build_long_world(cast: Cast) -> LongWorld:
    world = build_world(cast)
    User.objects.filter(pk=cast.gs.pk).update(email=LONG_EMAIL)
    User.objects.filter(pk=cast.admin_a.pk).update(email=LONG_ADMIN_EMAIL)
    cast.gs.refresh_from_db()
    cast.admin_a.refresh_from_db()

    # A's deal on a long customer: quoted, B pending on it (the GS's queue shows it).
    long_reg = approve(
        cast.gs,
        deal_services.registration_create(
            actor=cast.admin_a,
            customer_domain=LONG_DOMAIN,
            customer_name=LONG_NAME,
            country="GB",
            segment="smb",
        ),
    )
    deal_services.registration_create(
        actor=cast.admin_b,
        customer_domain=LONG_DOMAIN,
        customer_name=LONG_NAME,
        country="GB",
        segment="smb",
    )
    deal_services.quote_save(actor=cast.gs, deal=long_reg.deal, lines=QUOTE)
    token = deal_services.poi_token(live_poi(long_reg))
    deal_services.registration_create(
        actor=cast.admin_b,
        customer_domain=LONG_DOMAIN_B,
        customer_name=LONG_NAME,
        country="GB",
        segment="smb",
    )

    # Closed on another domain than registered: A credited, B excluded (rules to read).
    closed = approve(
        cast.gs,
        deal_services.registration_create(
            actor=cast.admin_a,
            customer_domain="closed-" + LONG_DOMAIN_B,
            customer_name=LONG_NAME,
            country="GB",
            segment="smb",
        ),
    )
    approve(
        cast.gs,
        deal_services.registration_create(
            actor=cast.admin_b,
            customer_domain="closed-" + LONG_DOMAIN_B,
            customer_name=LONG_NAME,
            country="GB",
            segment="smb",
        ),
    )
    deal_services.quote_save(actor=cast.gs, deal=closed.deal, lines=QUOTE)
    answer_poi(closed, "approve")
    deal_services.deal_close(
        actor=cast.gs,
        deal=closed.deal,
        purchase_domain="purchased-on-another." + LONG_DOMAIN_B,
        close_date=timezone.localdate(),
        lines=[ClosedLineInput(product_line="marketing_hub", mrr=Decimal("800.00"))],
        domain_mismatch_reason="The customer bought on its holding company's domain.",
    )

    # Tiers: A assessed in March 2026, one line on the long customer.
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="500.00", country="BR", sold="assisted")
    line(cast.org_a, mrr="5000.00", managed=True)
    long_customer = CustomerFactory(name=LONG_NAME, domain="tier." + LONG_DOMAIN)
    SubscriptionVersionFactory(
        subscription=SubscriptionFactory(customer=long_customer), effective_from=date(2025, 1, 1)
    )
    ActivityFactory(organisation=cast.org_a, customer=long_customer)
    tier_services.tier_run(as_of=MARCH, actor=None)

    # Accreditations: A rejected (reasons to read); B with marks goes to the board.
    certify(cast.org_a, "solutions_partner")
    Organisation.objects.filter(pk=cast.org_a.pk).update(tier="gold")
    rejected = accreditation_services.accreditation_apply(
        actor=cast.admin_a,
        kind="crm_implementation",  # type: ignore[arg-type]
    )
    certify(cast.org_b, "solutions_partner", "crm_implementation")
    Organisation.objects.filter(pk=cast.org_b.pk).update(tier="platinum")
    give_marks(cast.org_b, 4, on=date(2026, 1, 10), by=cast.ops)
    board = accreditation_services.accreditation_apply(
        actor=cast.admin_b,
        kind="crm_implementation",  # type: ignore[arg-type]
    )

    # Escalations: one complaint (customer success's step), one at mediation (SAT's).
    customer_success = UserFactory(email="cs@vendor.example", role=Role.CUSTOMER_SUCCESS)
    service_acceleration = UserFactory(email="sat@vendor.example", role=Role.SERVICE_ACCELERATION)
    enrol_totp(customer_success)
    enrol_totp(service_acceleration)
    complaint = escalation_services.escalation_open(
        actor=cast.ops,
        data=EscalationInput(
            partner=cast.org_a,
            customer_domain=LONG_DOMAIN,
            summary="The onboarding promised in the proposal never happened. " * 4,
            note="Shared with the partner: please send a remediation plan.",
            note_visibility=Visibility.PARTNER_VISIBLE,
        ),
    )
    mediation = escalation_services.escalation_open(
        actor=cast.ops,
        data=EscalationInput(
            partner=cast.org_a, customer_domain=LONG_DOMAIN_B, summary="Invoices look padded."
        ),
    )
    escalation_services.escalation_move(
        actor=customer_success,
        escalation=mediation,
        data=MoveInput(to="mediation", note="Not resolved with the customer."),
    )
    # The quarter before today's, closed (real clock: the browser's cookies must not expire):
    # A's line on the long customer domain payable, B's held for its payout paperwork.
    quarter = Quarter.of(timezone.localdate()).previous()
    sourced_line(
        cast.org_a,
        close_date=quarter.starts_on + timedelta(days=9),
        billing=[(quarter.starts_on, None, "800.00")],
        domain="statement-line-customer-on-a-very-long-domain.name-for-layout-testing.example.com",
    )
    sourced_line(
        cast.org_b,
        close_date=quarter.starts_on + timedelta(days=9),
        billing=[(quarter.starts_on, None, "1000.00")],
        currency="EUR",
    )
    Organisation.objects.filter(pk=cast.org_b.pk).update(payout_paperwork_complete=False)
    accrue(quarter.months()[-1])
    commission_services.close_quarter(actor=cast.finance, quarter=quarter)
    statement_a = Statement.objects.get(quarter=quarter.label, organisation=cast.org_a)
    statement_b = Statement.objects.get(quarter=quarter.label, organisation=cast.org_b)

    return LongWorld(
        cast=cast,
        quarter=quarter.label,
        statement_a=statement_a.pk,
        statement_b=statement_b.pk,
        customer_success=customer_success,
        service_acceleration=service_acceleration,
        long_registration=long_reg.pk,
        long_deal=long_reg.deal_id,
        closed_deal=closed.deal_id,
        tie_deal=world.tie.pk,
        quoted_registration=world.quoted.pk,
        referred_registration=world.referred.pk,
        poi_token=token,
        case_complaint=complaint.pk,
        case_mediation=mediation.pk,
        accreditation_board=board.pk,
        accreditation_rejected=rejected.pk,
    )


@pytest.fixture
def long_world(live_cast: Cast) -> LongWorld:
    return build_long_world(live_cast)


# Each role: who signs in, and its main pages (label, path); None for a page not built yet.
Pages = Callable[[LongWorld], tuple[User | None, list[tuple[str, str | None]]]]


def partner_admin(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    a = w.cast.org_a.pk
    return w.cast.admin_a, [
        ("home", "/"),
        ("my deals and the registration form", reverse("deals-mine")),
        (
            "deal page (long domain, POI link)",
            reverse("deals-registration", args=[w.long_registration]),
        ),
        (
            "deal page (manual POI, question)",
            reverse("deals-registration", args=[w.quoted_registration]),
        ),
        (
            "deal page (acknowledgement)",
            reverse("deals-registration", args=[w.referred_registration]),
        ),
        ("tier page", reverse("tiers-partner", args=[a])),
        ("accreditations", reverse("accreditations")),
        ("escalations", reverse("escalations-list")),
        ("escalation", reverse("escalations-case", args=[w.case_complaint])),
        ("marks on record", reverse("escalations-marks")),
        ("statements", url_if_present("commissions:statements")),
        ("a statement and its lines", reverse("commissions:statement", args=[w.statement_a])),
    ]


def growth_specialist(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    return w.cast.gs, [
        ("home", "/"),
        ("workspace", reverse("deals-workspace")),
        ("open deal (long customer, quote editor)", reverse("deals-deal", args=[w.long_deal])),
        ("closed deal (resolution)", reverse("deals-deal", args=[w.closed_deal])),
        ("tied deal", reverse("deals-deal", args=[w.tie_deal])),
    ]


def pdm(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    a = w.cast.org_a.pk
    return w.cast.pdm, [
        ("home", "/"),
        ("partner page", reverse("partner-detail", args=[a])),
        ("partner's tier", reverse("tiers-partner", args=[a])),
        ("partner tiers", reverse("tiers-partners")),
    ]


def partner_ops(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    a = w.cast.org_a.pk
    return w.cast.ops, [
        ("partners", "/"),
        ("partner page", reverse("partner-detail", args=[a])),
        ("partner tiers", reverse("tiers-partners")),
        ("deals workspace", reverse("deals-workspace")),
        ("ties to decide", reverse("deals-ties")),
        ("escalations", reverse("escalations-list")),
        ("escalation review queue", reverse("escalations-queue")),
        ("escalation", reverse("escalations-case", args=[w.case_complaint])),
        ("raise a complaint", reverse("escalations-create")),
        ("marks on record", reverse("escalations-marks")),
        ("accreditations", reverse("accreditations")),
        ("accreditations board", reverse("accreditations-board")),
        ("accreditation", reverse("accreditations-detail", args=[w.accreditation_board])),
        ("audit trail", reverse("audit-list")),
    ]


def finance(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    return w.cast.finance, [
        ("home", "/"),
        ("quarters", url_if_present("commissions:quarters")),
        ("a closed quarter", reverse("commissions:quarter", args=[w.quarter])),
        (
            "a held statement and its lines",
            reverse("commissions:finance-statement", args=[w.statement_b]),
        ),
        (
            "a payable statement (release, payment forms)",
            reverse("commissions:finance-statement", args=[w.statement_a]),
        ),
    ]


def customer_success(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    return w.customer_success, [
        ("home", "/"),
        ("escalations", reverse("escalations-list")),
        ("escalation review queue", reverse("escalations-queue")),
        ("escalation (its step)", reverse("escalations-case", args=[w.case_complaint])),
    ]


def service_acceleration(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    return w.service_acceleration, [
        ("home", "/"),
        ("escalations", reverse("escalations-list")),
        ("escalation (its step)", reverse("escalations-case", args=[w.case_mediation])),
    ]


def anonymous(w: LongWorld) -> tuple[User | None, list[tuple[str, str | None]]]:
    return None, [
        ("sign-in", reverse("account_login")),
        ("customer's POI page", reverse("poi-answer", args=[w.poi_token])),
    ]


ROLES: dict[str, Pages] = {
    "partner_admin": partner_admin,
    "growth_specialist": growth_specialist,
    "pdm": pdm,
    "partner_ops": partner_ops,
    "finance": finance,
    "customer_success": customer_success,
    "service_acceleration": service_acceleration,
    "anonymous": anonymous,
}


@pytest.fixture
def walk(live_server, page: Page) -> Walk:
    return Walk(page=page, base_url=live_server.url)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_fits_both_widths_shows_no_code_and_passes_axe(
    role: str, walk: Walk, long_world: LongWorld
) -> None:
    user, pages = ROLES[role](long_world)
    walk.role = role
    if user is not None:
        sign_in_with_cookie(walk.page, walk.base_url, user)
    present = [(label, path) for label, path in pages if path is not None]
    for size in (DESKTOP, PHONE):
        walk.page.set_viewport_size(size)
        for label, path in present:
            walk.open(path)
            walk.check(label)
        if user is not None and size is PHONE:
            walk.sign_out_reachable(present[-1][0])
    walk.report()


# Form errors: a banner at the top of the form naming what to fix (each field a link to it),
# the focus on the first invalid field, each error next to its field and tied to it.

_FOCUS = """
() => {
  const el = document.activeElement;
  return {id: el ? el.id : "", banner: !!(el && el.closest("[data-form-errors]"))};
}
"""


def test_a_failed_quote_save_shows_the_banner_in_view_and_focuses_the_first_invalid_field(
    live_server, page: Page, long_world: LongWorld
) -> None:
    """Issue 13: after a failed quote save the page came back at the top, no banner, the errors
    below the fold. On a phone, the banner is now in view and the focus on the invalid MRR."""
    sign_in_with_cookie(page, live_server.url, long_world.cast.gs)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('deals-deal', args=[long_world.long_deal])}")
    editor = page.locator("#quote-editor")
    row = editor.locator("tr.quote-line").last
    row.locator("select[name$=product_line]").select_option(label="Marketing Hub")
    row.locator("input[name$=mrr]").fill("")
    row.locator("select[name$=currency]").select_option("")
    editor.get_by_role("button", name="Save quote").click()

    banner = page.locator("#quote-editor [data-form-errors]")
    expect(banner).to_be_visible()
    expect(banner).to_be_in_viewport()
    expect(banner).to_contain_text("MRR: Enter the monthly amount.")
    expect(banner).to_contain_text("Currency: Choose the currency.")
    index = (row.locator("input[name$=mrr]").get_attribute("name") or "").split("-")[1]
    mrr = page.locator(f"#id_lines-{index}-mrr")
    expect(mrr).to_be_focused()
    expect(mrr).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#id_lines-{index}-mrr_error")).to_contain_text(
        "Enter the monthly amount."
    )
    assert f"id_lines-{index}-mrr_error" in (mrr.get_attribute("aria-describedby") or "")
    # The banner's link to the other field takes the focus there.
    banner.get_by_role("link", name="Currency: Choose the currency.").click()
    expect(page.locator(f"#id_lines-{index}-currency")).to_be_focused()
    assert serious_violations(page) == []


def test_an_empty_registration_names_each_field_to_fix_and_ties_each_error_to_its_field(
    live_server, page: Page, live_cast: Cast
) -> None:
    sign_in_with_cookie(page, live_server.url, live_cast.admin_a)
    page.goto(f"{live_server.url}{reverse('deals-mine')}")
    register = page.locator("#register")
    register.get_by_role("button", name="Register deal").click()

    banner = register.locator("[data-form-errors]")
    expect(banner).to_be_in_viewport()
    expect(banner.get_by_role("link", name=re.compile(r"^Customer domain: "))).to_be_visible()
    expect(banner.get_by_role("link", name=re.compile(r"^Country: "))).to_be_visible()
    domain = register.get_by_label("Customer domain")
    expect(domain).to_be_focused()
    expect(domain).to_have_attribute("aria-invalid", "true")
    expect(domain).to_have_accessible_description(re.compile(r"required|Enter", re.IGNORECASE))
    banner.get_by_role("link", name=re.compile(r"^Country: ")).click()
    expect(register.get_by_label("Country")).to_be_focused()
    assert serious_violations(page) == []


def test_a_refused_registration_is_named_in_words_in_view_with_the_focus_on_it(
    live_server, page: Page, live_cast: Cast
) -> None:
    """A second registration on the same domain: the refusal in words, never the rule's code
    ("(rule: duplicate_registration)", issue 13), in view and where the focus is."""
    cast = live_cast
    deal_services.registration_create(
        actor=cast.admin_a,
        customer_domain="acme-retail.co.uk",
        customer_name="Acme Retail",
        country="GB",
        segment="smb",
    )
    sign_in_with_cookie(page, live_server.url, cast.admin_a)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('deals-mine')}")
    register = page.locator("#register")
    register.get_by_label("Customer domain").fill("acme-retail.co.uk")
    register.get_by_label("Country").select_option(label="United Kingdom")
    register.get_by_role("button", name="Register deal").click()

    banner = page.locator("[data-form-errors]").first
    expect(banner).to_be_in_viewport()
    expect(banner).to_contain_text("acme-retail.co.uk")
    focus = page.evaluate(_FOCUS)
    assert focus["banner"] or focus["id"] == "id_customer_domain", focus
    assert _CODE.findall(banner.inner_text()) == []


def test_a_failed_sign_in_says_so_at_the_top_of_the_form_with_the_focus_on_it(
    live_server, page: Page, live_cast: Cast
) -> None:
    page.goto(f"{live_server.url}{reverse('account_login')}")
    page.get_by_label("Email").fill(live_cast.admin_a.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    banner = page.locator("form [data-form-errors]")
    expect(banner).to_be_in_viewport()
    expect(banner).to_contain_text("not correct")
    assert page.evaluate(_FOCUS)["banner"]
    assert serious_violations(page) == []


# The header on a phone: a menu button when scripts run, wrapped links when they do not.


def test_on_a_phone_the_menu_button_opens_the_navigation_and_sign_out(
    live_server, page: Page, live_cast: Cast
) -> None:
    sign_in_with_cookie(page, live_server.url, live_cast.ops)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Audit trail")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    page.set_viewport_size(DESKTOP)
    expect(menu).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_without_scripts_a_phone_still_reaches_every_link_and_sign_out(
    live_server, browser, live_cast: Cast
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        sign_in_with_cookie(page, live_server.url, live_cast.ops)
        page.goto(f"{live_server.url}/")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        for name in ("Home", "Ties to decide", "Audit trail"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_in_viewport()
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        measure = page.evaluate(_MEASURE)
        assert measure["width"] <= measure["inner"], measure
    finally:
        context.close()


def test_the_points_chart_has_a_text_alternative_and_its_figures_in_a_table(
    live_server, page: Page, long_world: LongWorld
) -> None:
    """A screen reader reads the chart's name and summary; every figure it draws is also in
    the assessment history table."""
    sign_in_with_cookie(page, live_server.url, long_world.cast.admin_a)
    page.goto(f"{live_server.url}{reverse('tiers-partner', args=[long_world.cast.org_a.pk])}")
    chart = page.get_by_role("img", name="Points at each assessment")
    expect(chart).to_have_accessible_name(
        re.compile(
            r"^Points at each assessment Total points from 15 Mar 2026 \(\d+\) "
            r"to 15 Mar 2026 \(\d+\), 1 assessment\. Every figure is in the assessment history"
        )
    )
    page.locator("#history summary").click()
    history = page.locator("#history table")
    expect(history.locator("thead th")).to_have_text(
        ["Run", "Tier after", "Sourced", "Assisted", "Managed", "Total", "At risk"]
    )
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr").first).to_contain_text("15 Mar 2026")


def test_a_long_customer_name_is_cut_to_two_lines_with_the_whole_name_in_its_title(
    live_server, page: Page, long_world: LongWorld
) -> None:
    sign_in_with_cookie(page, live_server.url, long_world.cast.gs)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('deals-workspace')}")
    name = page.locator("#open-deals").get_by_role("link", name=LONG_NAME).first
    expect(name).to_have_attribute("title", LONG_NAME)
    cut, lines = name.evaluate(
        """(el) => [el.scrollHeight > el.clientHeight + 1,
                   Math.round(el.clientHeight / parseFloat(getComputedStyle(el).lineHeight))]"""
    )
    assert cut
    assert lines == 2
