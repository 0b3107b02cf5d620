"""Issue 10, finding 8 (headers): every page sends a Content-Security-Policy that allows nothing
inline, and the kernel's templates need nothing inline. (The browser tests fail on any
violation the browser reports: tests/e2e/conftest.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from .cast import Cast, browser_as

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# The templates the kernel and the project package own; the apps' own folders (deals/, tiers/)
# are checked in the browser tests, page by page.
KERNEL_TEMPLATES = sorted(
    [
        *TEMPLATES.glob("*.html"),
        *TEMPLATES.glob("core/**/*.html"),
        *TEMPLATES.glob("allauth/**/*.html"),
        *TEMPLATES.glob("partials/**/*.html"),
    ]
)

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+=", re.I)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)


def policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/accounts/login/"),
        (None, "/accounts/password/reset/"),
        ("admin_a", "/"),
        ("ops", "/"),
        ("ops", "/audit/"),
        ("ops", "/admin/"),
        ("ops", "/api/docs/"),
        ("ops", "/accounts/2fa/"),
        ("pdm", "/no-such-page/"),
    ],
)
def test_every_page_sends_a_policy_with_nothing_inline(
    cast: Cast, who: str | None, path: str
) -> None:
    client = browser_as(cast.people()[who]) if who else Client()
    response = client.get(path)
    assert response.status_code in (200, 404), response.status_code
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_the_api_sends_the_policy_too(cast: Cast) -> None:
    response = browser_as(cast.ops).get("/api/v1/partners/")
    assert policy(response)["default-src"] == ["'self'"]


@pytest.mark.parametrize("template", KERNEL_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_kernel_templates_have_no_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not INLINE_STYLE.search(text)
    assert not INLINE_HANDLER.search(text)
    assert not JAVASCRIPT_URL.search(text)


def test_the_api_docs_page_loads_its_start_up_script_as_a_file(cast: Cast) -> None:
    page = browser_as(cast.ops).get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(page)
    assert not INLINE_STYLE.search(page)
    script = browser_as(cast.ops).get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_server_error_page_needs_nothing_inline(db: None) -> None:
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert not INLINE_STYLE.search(page)
    assert "css/portal.css" in page
