"""The data version, the signed-in user read from the cache and the kept page bodies
(`core.versions`, `core.auth`, `core.pagecache`; issue 13, speed under load): what a page
shows is never older than the last committed change, each viewer's forms carry their own
CSRF token, and a body is kept per organisation, role or user as it shows them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from deals import services as deal_services
from deals.models import Inquiry, Registration
from partnerportal.core import pagecache, versions
from partnerportal.core.audit import audit
from partnerportal.core.models import User
from tests.cast import Cast, browser_as
from tests.factories import InquiryFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _register(user: User, domain: str) -> Registration:
    return deal_services.registration_create(
        actor=user, customer_domain=domain, customer_name=domain, country="GB", segment="smb"
    )


# --- The data version -------------------------------------------------------------------------


def test_an_audited_change_replaces_the_data_version_when_made_and_again_once_committed(
    cast: Cast, django_capture_on_commit_callbacks: object
) -> None:
    before = versions.data_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        with transaction.atomic():
            audit(actor=cast.ops, verb="test.changed", subject=cast.org_a)
            made = versions.data_version()
        assert versions.data_version() == made  # not committed yet (the test's transaction)
    committed = versions.data_version()  # the callbacks ran, as on commit
    assert len(callbacks) == 1
    assert len({before, made, committed}) == 3


def test_a_lost_data_version_is_a_new_one() -> None:
    from django.core.cache import cache

    before = versions.data_version()
    cache.delete(versions.VERSION_KEY)
    assert versions.data_version() != before


def test_saving_a_user_or_organisation_outside_a_service_replaces_the_data_version(
    cast: Cast,
) -> None:
    before = versions.data_version()
    cast.org_a.name = "Alpha Agency Ltd"
    cast.org_a.save()
    after_org = versions.data_version()
    cast.member_a.first_name = "Ada"
    cast.member_a.save()
    assert len({before, after_org, versions.data_version()}) == 3


# --- The signed-in user -----------------------------------------------------------------------


def test_the_signed_in_user_is_read_from_the_cache_until_something_changes(
    cast: Cast, django_assert_num_queries: object
) -> None:
    client = browser_as(cast.admin_a)
    assert client.get("/deals/").status_code == 200
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert client.get("/deals/").status_code == 200  # user, organisation and body kept
    _register(cast.admin_a, "fresh.example")
    page = client.get("/deals/")
    assert "fresh.example" in page.content.decode()


def test_a_deactivated_user_is_signed_out_at_once(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    assert client.get("/deals/").status_code == 200
    cast.admin_a.is_active = False
    cast.admin_a.save()
    response = client.get("/deals/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_password_change_signs_other_sessions_out_at_once(cast: Cast) -> None:
    client = browser_as(cast.admin_a)
    assert client.get("/deals/").status_code == 200
    cast.admin_a.set_password("a-new-long-passphrase-42")
    cast.admin_a.save()
    response = client.get("/deals/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_removed_authenticator_is_seen_at_once_by_the_second_factor_check(
    cast: Cast,
) -> None:
    client = browser_as(cast.gs)
    assert client.get("/deals/workspace/").status_code == 200
    Authenticator.objects.filter(user=cast.gs).delete()
    response = client.get("/deals/workspace/")
    assert response.status_code == 302  # sent to enrol an authenticator
    assert "/accounts/2fa/" in response["Location"]


def test_a_role_change_is_seen_on_the_next_page(cast: Cast) -> None:
    client = browser_as(cast.member_a)
    assert "Partner member" in client.get("/deals/").content.decode()
    cast.member_a.role = "partner_admin"
    cast.member_a.save()
    assert "Partner admin" in client.get("/deals/").content.decode()


# --- Kept page bodies -------------------------------------------------------------------------


def test_a_kept_body_carries_each_viewers_own_csrf_token(cast: Cast) -> None:
    first = browser_as(cast.admin_a)
    second = Client(enforce_csrf_checks=True)
    second.force_login(cast.member_a, backend="partnerportal.core.auth.ModelBackend")
    first.get("/deals/")  # renders and keeps the body
    page = second.get("/deals/").content.decode()  # served from the kept body
    assert pagecache.CSRF_PLACEHOLDER not in page
    tokens = TOKEN_FIELD.findall(page)  # the sign-out form's and the register form's
    assert len(tokens) == 2
    response = second.post(
        "/deals/",
        {
            "customer_domain": "second.example",
            "customer_name": "Second",
            "country": "GB",
            "segment": "smb",
            "csrfmiddlewaretoken": tokens[1],
        },
    )
    assert response.status_code == 302  # the token it was served is its own: accepted
    assert Registration.objects.filter(registered_domain="second.example").exists()


def test_a_kept_body_belongs_to_its_organisation(cast: Cast) -> None:
    _register(cast.admin_a, "alpha-only.example")
    _register(cast.admin_b, "bravo-only.example")
    alpha = browser_as(cast.admin_a).get("/deals/").content.decode()
    bravo = browser_as(cast.admin_b).get("/deals/").content.decode()
    assert "alpha-only.example" in alpha
    assert "bravo-only.example" not in alpha
    assert "bravo-only.example" in bravo
    assert "alpha-only.example" not in bravo


def test_a_kept_deals_list_reads_differently_once_an_invitation_lapses(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    RegistrationFactory(
        organisation=cast.org_a,
        motion="partner_assisted",
        status="invited",
        expires_at=now + timedelta(hours=1),
    )
    client = browser_as(cast.admin_a)
    assert "Invitation expired" not in client.get("/deals/").content.decode()
    later = now + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "Invitation expired" in client.get("/deals/").content.decode()


def test_a_kept_deals_list_reads_differently_once_a_question_falls_overdue(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    registration = RegistrationFactory(organisation=cast.org_a)
    inquiry: Inquiry = InquiryFactory(registration=registration)
    client = browser_as(cast.admin_a)
    assert "overdue" not in client.get("/deals/").content.decode()
    later = inquiry.answer_due_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "1 overdue" in client.get("/deals/").content.decode()


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ({}, ("",)),
        ({"page": "2"}, ("2",)),
        ({"page": "two"}, None),
        ({"page": "1234567"}, None),
        ({"status": "approved"}, None),
        ({"page": "1", "status": "approved"}, None),
    ],
)
def test_only_a_plain_or_paged_list_is_kept(
    rf: RequestFactory, query: dict[str, str], kept: object
) -> None:
    request = rf.get("/deals/", query)
    assert pagecache.plain_pages(request, "page") == kept


def test_a_kept_workspace_shows_a_new_request_at_once(cast: Cast) -> None:
    client = browser_as(cast.gs)
    assert "queued.example" not in client.get("/deals/workspace/").content.decode()
    _register(cast.admin_a, "queued.example")
    assert "queued.example" in client.get("/deals/workspace/").content.decode()


def test_compacting_keeps_what_a_browser_shows_and_leaves_textareas_alone() -> None:
    assert pagecache._compact("<p>\n    a\n\n    b\n</p>") == "<p>\na\nb\n</p>"
    kept = "<textarea>\n  line one\n\n  line two</textarea>"
    assert pagecache._compact(kept) == kept


def test_a_migration_or_flush_replaces_the_data_version_and_needs_no_cache(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    before = versions.data_version()
    post_migrate.send(sender=apps.get_app_config("core"), app_config=apps.get_app_config("core"))
    assert versions.data_version() != before

    def unreachable() -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(versions, "data_changed", unreachable)
    post_migrate.send(sender=apps.get_app_config("core"), app_config=apps.get_app_config("core"))
    assert "could not be replaced after migrating" in caplog.text
