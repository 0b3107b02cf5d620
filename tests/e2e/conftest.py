"""Browser tests: real headless Chromium (Debian's, at /usr/bin/chromium) against a live
server. A missing browser is a failure, never a skip; so is a Content-Security-Policy
violation the browser reports on any page a test opens."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium) or set "
            "PORTAL_CHROMIUM. Browser tests are never skipped."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


# Reports a Content-Security-Policy violation on the console whatever the browser says about
# it (a refused inline script or style is also logged by Chromium itself).
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` on ${event.documentURI} (${event.sourceFile || "?"}:${event.lineNumber})`);
});
"""
_CSP_MARKERS = ("CSP violation:", "Content Security Policy", "Content-Security-Policy")


class CspWatch:
    """Collects every Content-Security-Policy violation a page reports."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.violations: list[str] = []
        page.add_init_script(_REPORT_CSP_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if any(marker in message.text for marker in _CSP_MARKERS):
            self.violations.append(f"{message.text} [{self.page.url}]")


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """pytest-playwright's page, failing the test when the browser reports any
    Content-Security-Policy violation on any page it opened (issue 10: the pages pass the
    policy; a violation is a broken page in production)."""
    watch = CspWatch(page)
    yield page
    if watch.violations:
        pytest.fail(
            "The browser reported Content-Security-Policy violations:\n"
            + "\n".join(watch.violations),
            pytrace=False,
        )
