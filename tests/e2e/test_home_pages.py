"""A partner and a growth specialist sign in through the real sign-in form and see their
home pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.cast import Cast, current_totp_code
from tests.e2e.conftest import CspWatch
from tests.factories import (
    TEST_PASSWORD,
    ActivityFactory,
    CustomerFactory,
    SubscriptionVersionFactory,
)

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_partner_signs_in_and_sees_its_home_page(live_server, page: Page, live_cast: Cast) -> None:
    cast = live_cast
    customer = CustomerFactory(domain="acme-retail.co.uk", name="Acme Retail")
    SubscriptionVersionFactory(subscription__customer=customer, effective_from=date(2025, 1, 1))
    ActivityFactory(organisation=cast.org_a, customer=customer)
    sign_in(page, live_server.url, cast.admin_a.email)
    expect(page.locator("#organisation h1")).to_have_text(cast.org_a.name)
    expect(page.locator("#customers")).to_contain_text("Acme Retail")
    expect(page.locator("#customers")).to_contain_text("Marketing Hub")
    expect(page.locator("body")).not_to_contain_text(cast.org_b.name)
    page.screenshot(path="test-results/partner-home.png", full_page=True)


def test_growth_specialist_signs_in_with_a_second_factor_and_lands_on_the_workspace(
    live_server, page: Page, live_cast: Cast
) -> None:
    cast = live_cast
    sign_in(page, live_server.url, cast.gs.email)
    expect(page.locator("h1")).to_have_text("Two-Factor Authentication")
    page.locator("input[name=code]").fill(current_totp_code())
    page.get_by_role("button", name="Sign In").click()
    # a growth specialist works from the deals workspace (issue 13)
    expect(page).to_have_url(f"{live_server.url}/deals/workspace/")
    expect(page.locator("h1")).to_have_text("Deals workspace")
    page.screenshot(path="test-results/gs-home.png", full_page=True)


def test_partner_ops_reach_the_admin_only_through_password_and_authenticator_code(
    live_server, page: Page, live_cast: Cast
) -> None:
    """Issue 10, finding 1: the admin's login is the portal's sign-in, second factor included."""
    cast = live_cast
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
    page.get_by_label("Email").fill(cast.ops.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator("h1")).to_have_text("Two-Factor Authentication")
    page.goto(f"{live_server.url}/admin/")  # the password alone opens nothing: back to the code
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    expect(page.locator("#site-name")).to_have_count(0)
    page.locator("input[name=code]").fill(current_totp_code())
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/core/user/")
    expect(page.locator("#result_list")).to_contain_text(cast.admin_a.email)
    page.goto(f"{live_server.url}/admin/core/user/{cast.admin_a.pk}/change/")  # widgets' scripts
    expect(page.locator("#content h2")).to_contain_text(cast.admin_a.email)


def test_the_api_docs_work_under_the_content_security_policy(
    live_server, page: Page, live_cast: Cast
) -> None:
    sign_in(page, live_server.url, live_cast.admin_a.email)
    expect(page.locator("#organisation h1")).to_have_text(live_cast.org_a.name)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Partner Program Portal API")
    expect(page.locator(".opblock").first).to_be_visible()


def test_a_policy_violation_is_caught_by_the_watch(context: BrowserContext) -> None:
    """The `page` fixture's watch notices an inline script and an inline style refused by the
    policy (so a page that breaks the policy fails its browser test)."""
    page = context.new_page()
    watch = CspWatch(page)
    page.route(
        "http://csp.test/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'"},
            body='<p style="color:red">x</p><script>document.title = "ran"</script>',
        ),
    )
    page.goto("http://csp.test/")
    page.wait_for_timeout(200)
    assert page.title() != "ran"
    assert any("script-src" in v for v in watch.violations), watch.violations
    assert any("style-src" in v for v in watch.violations), watch.violations
    page.close()


def test_new_staff_enrol_an_authenticator_then_enter_its_code_under_the_policy(
    live_server, page: Page, live_cast: Cast
) -> None:
    """A staff member without a second factor enrols one (QR code page under the policy),
    then this session enters a code once more before any staff page opens."""
    from partnerportal.core.models import Role
    from tests.factories import UserFactory

    staff = UserFactory(email="new-finance@vendor.example", role=Role.FINANCE)
    sign_in(page, live_server.url, staff.email)
    expect(page.locator("h1")).to_have_text("Activate Authenticator App")
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(code_for(secret))
    page.get_by_role("button", name="Activate").click()
    # enrolled: the session still has to use the new factor once
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/\?next=%2F$"))
    page.locator("input[name=code]").fill(code_for(secret, step=1))
    page.get_by_role("button", name="Confirm").click()
    # finance works from its quarters page (issue 13)
    expect(page).to_have_url(f"{live_server.url}/finance/quarters/")


def code_for(secret: str, step: int = 0) -> str:
    """The authenticator code of `secret` now (`step` 30-second steps later: a code is used
    once, and the portal accepts the next step's code too)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))
