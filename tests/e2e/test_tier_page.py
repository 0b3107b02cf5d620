"""The tier page in a real browser: a partner signs in through the form, sees its tier and
progress bars, asks the what-if panel where it would land, and downloads its lines as CSV;
its PDM finds it in the partner tiers list. The assessment is made by a real tier run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from partnerportal.core.models import User
from tests.cast import Cast, current_totp_code
from tests.factories import TEST_PASSWORD
from tiers import services
from tiers.tests.test_api import MARCH, line

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, user: User) -> None:
    """The real sign-in form; staff then give their second factor."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if user.is_program_staff:
        expect(page.locator("h1")).to_have_text("Two-Factor Authentication")
        page.locator("input[name=code]").fill(current_totp_code())
        page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def assess(cast: Cast) -> None:
    """A's March 2026 run: sourced 100, assisted 30 (Brazil), managed 50, total 180."""
    line(cast.org_a, mrr="2000.00", sold="sourced")
    line(cast.org_a, mrr="500.00", country="BR", sold="assisted")
    line(cast.org_a, mrr="5000.00", managed=True)
    services.tier_run(as_of=MARCH, actor=None)


def test_partner_sees_its_tier_asks_what_if_and_downloads_its_lines(
    live_server, page: Page, live_cast: Cast, tmp_path: Path
) -> None:
    cast = live_cast
    assess(cast)

    # Home is the partner's dashboard; its tier is one link away (issue 13).
    sign_in(page, live_server.url, cast.member_a)
    expect(page.locator("#organisation h1")).to_have_text(cast.org_a.name)
    page.locator("#tier-link").click()
    expect(page).to_have_url(f"{live_server.url}/partners/{cast.org_a.pk}/tier/")
    expect(page.locator("#current-tier")).to_have_text("Untiered")
    expect(page.locator("#progress h2")).to_have_text("Towards Gold")
    expect(page.locator("#points-total")).to_have_text("180")
    total = page.get_by_role("progressbar", name="Total").first
    expect(total).to_have_attribute("max", "325")
    expect(total).to_have_attribute("value", "180")
    expect(page.locator("#progress-total-text")).to_contain_text("145 to go")
    expect(page.locator("#progress-managed-text")).to_contain_text("met")
    expect(page.locator("#history-chart svg")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(cast.org_b.name)

    # What-if: a bad amount is a message on the form, then 3 000 USD sourced lands on Gold.
    what_if = page.locator("#what-if")
    what_if.get_by_label("Kind of MRR").select_option("sourced")
    what_if.get_by_label("Monthly recurring revenue (MRR)").fill("three thousand")
    what_if.get_by_label("Currency").select_option("USD")
    what_if.get_by_label("Customer country").select_option("GB")
    what_if.get_by_role("button", name="Where would I land?").click()
    expect(page.locator("#what-if .field-error")).to_have_text(
        "Enter the monthly amount as a number, e.g. 1500 or 1500.50."
    )
    what_if.get_by_label("Monthly recurring revenue (MRR)").fill("3000")
    what_if.get_by_role("button", name="Where would I land?").click()
    expect(page.locator("#what-if-tier")).to_have_text("Gold")
    expect(page.locator("#what-if-result")).to_contain_text("earns 150 points")
    expect(page.locator("#what-if-result")).to_contain_text("up from Untiered")
    expect(page.locator("#what-if-total-text")).to_contain_text("330 of 925 points")
    page.screenshot(path="test-results/tier-page-partner.png", full_page=True)

    # The lines, filtered to managed, downloaded as CSV.
    lines = page.locator("#lines")
    lines.get_by_label("Kind").select_option("managed")
    lines.get_by_role("button", name="Filter").click()
    expect(page.locator("#lines-count")).to_have_text("1 line matching the filters.")
    with page.expect_download() as info:
        page.locator("#lines-csv").click()
    download = info.value
    assert download.suggested_filename == "tier-lines-alpha-agency-2026-03-15.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["kind"], r["mrr_this_month"], r["points"]) for r in rows] == [
        ("managed", "5000.00", "50.000000000000")
    ]


def test_pdm_opens_a_partner_from_the_partner_tiers_list(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    assess(cast)

    sign_in(page, live_server.url, cast.pdm)
    page.get_by_role("link", name="Partner tiers").click()
    expect(page.locator("#tier-partners")).to_contain_text(cast.org_a.name)
    expect(page.locator("#tier-partners")).not_to_contain_text(cast.org_b.name)
    page.get_by_role("link", name=cast.org_a.name).click()
    expect(page.locator("#current-tier")).to_have_text("Untiered")
    expect(page.locator("#progress-sold-text")).to_contain_text("100 of 110 points")
    page.screenshot(path="test-results/tier-page-pdm.png", full_page=True)
