"""Issue 10, findings 1 and 2: the staff second factor cannot be walked around.

With production-like settings (staff MFA required, DEBUG off), a staff session counts as signed
in only once *this session* passed allauth's MFA stage: the Django admin's login has no
sign-in of its own (it sends to allauth's), a password-only session opens no staff page and no
API, and every sign-in path locks an account after 5 wrong passwords (django-axes)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings

from partnerportal.core.lockout import attempted_email, client_address
from partnerportal.core.models import Role, User

from .cast import Cast, api_as, browser_as, current_totp_code
from .factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("production_like"),
]

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def production_like() -> object:
    with override_settings(PORTAL_STAFF_MFA_REQUIRED=True, DEBUG=False):
        yield


@pytest.fixture
def ops(cast: Cast) -> User:
    """Partner ops (Django admin access) with a password and an enrolled authenticator."""
    cast.ops.set_password(PASSWORD)
    cast.ops.save()
    return cast.ops


def sign_in(client: Client, email: str, password: str, next_url: str = "") -> str:
    """Post allauth's sign-in form; return where it sends the browser ('' when it stays)."""
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"login": email, "password": password})
    return response.get("Location", "") if response.status_code == 302 else ""


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- The Django admin's login ----------------------------------------------------------------


def test_the_admin_login_page_sends_to_the_portal_sign_in(db: None) -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_a_password_posted_to_the_admin_login_signs_nobody_in(ops: User) -> None:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": ops.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302  # still the sign-in page


def test_the_admin_is_reached_through_password_then_authenticator_code(ops: User) -> None:
    client = Client()
    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    response = client.post(login_url, {"login": ops.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    # the password alone has signed nobody in
    assert signed_in_user_id(client) is None
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    response = client.post("/accounts/2fa/authenticate/", {"code": current_totp_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- A session that did not pass the second factor ----------------------------------------


@pytest.mark.parametrize("path", ["/", "/admin/", "/audit/", "/admin/core/user/"])
def test_a_password_only_staff_session_opens_no_staff_page(cast: Cast, path: str) -> None:
    client = browser_as(cast.ops, second_factor=False)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")


@pytest.mark.parametrize("path", ["/", "/admin/", "/audit/"])
def test_a_staff_session_that_passed_the_code_opens_staff_pages(cast: Cast, path: str) -> None:
    assert browser_as(cast.ops).get(path).status_code == 200


def test_an_authenticator_record_of_someone_else_does_not_count(cast: Cast) -> None:
    """A session's MFA record must name one of the signed-in user's own authenticators."""
    client = browser_as(cast.ops, second_factor=False)
    from allauth.mfa.models import Authenticator

    others = Authenticator.objects.get(user=cast.gs, type=Authenticator.Type.TOTP)
    session = client.session
    session["account_authentication_methods"].append(
        {"method": "mfa", "at": 0, "id": others.pk, "type": "totp"}
    )
    session.save()
    assert client.get("/").status_code == 302


def test_entering_the_code_lets_a_password_only_session_through(cast: Cast) -> None:
    client = browser_as(cast.ops, second_factor=False)
    assert client.get("/").status_code == 302
    response = client.post("/accounts/2fa/reauthenticate/?next=/", {"code": current_totp_code()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_staff_without_an_authenticator_are_sent_to_enrol(db: None) -> None:
    staff = UserFactory(email="new-gs@vendor.example", role=Role.GROWTH_SPECIALIST)
    response = browser_as(staff).get("/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_partner_users_need_no_second_factor(cast: Cast) -> None:
    assert browser_as(cast.admin_a, second_factor=False).get("/").status_code == 200


# --- The API with a browser session ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/partners/"),
        ("get", "/api/v1/deals/1/"),
        ("post", "/api/v1/activities/"),
        ("post", "/api/v1/registrations/1/inquiries/"),
    ],
)
def test_the_api_refuses_a_staff_session_that_did_not_pass_the_second_factor(
    cast: Cast, method: str, path: str
) -> None:
    client = browser_as(cast.gs, second_factor=False)  # a session cookie, no token
    response = getattr(client, method)(path, {}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "authenticator code" in response.json()["detail"]


def test_the_api_refuses_a_session_of_staff_without_an_authenticator(db: None) -> None:
    staff = UserFactory(email="fresh@vendor.example", role=Role.FINANCE)
    response = browser_as(staff).get("/api/v1/partners/")
    assert response.status_code == 403
    assert "set up an authenticator" in response.json()["detail"]


def test_the_api_accepts_a_staff_session_that_passed_the_second_factor(cast: Cast) -> None:
    assert browser_as(cast.gs).get("/api/v1/partners/").status_code == 200


def test_the_api_accepts_a_partner_session_as_before(cast: Cast) -> None:
    response = browser_as(cast.admin_a, second_factor=False).get("/api/v1/partners/")
    assert response.status_code == 200


def test_operator_issued_tokens_work_as_before(cast: Cast) -> None:
    assert api_as(cast.ops).get("/api/v1/partners/").status_code == 200


def test_a_full_sign_in_opens_the_api_to_the_browser_session(ops: User) -> None:
    client = Client()
    assert sign_in(client, ops.email, PASSWORD) == "/accounts/2fa/authenticate/"
    assert client.get("/api/v1/partners/").status_code == 401  # nobody signed in yet
    client.post("/accounts/2fa/authenticate/", {"code": current_totp_code()})
    assert client.get("/api/v1/partners/").status_code == 200


# --- Lockout on every sign-in path (django-axes) ---------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_with_the_right_one_next(ops: User) -> None:
    """allauth's own limit answers first (5 failures per account in 5 minutes); django-axes
    stands behind it (next test)."""
    client = Client()
    for _ in range(5):
        assert sign_in(client, ops.email, "wrong password") == ""
    response = client.post("/accounts/login/", {"login": ops.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert signed_in_user_id(client) is None


@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_the_lockout_is_axes_own_not_only_allauths_rate_limit(ops: User) -> None:
    """With allauth's own limits off, django-axes still locks after 5 failures: 429 and the
    lockout page, even for the right password, from any address."""
    for attempt in range(5):
        client = Client(REMOTE_ADDR=f"10.0.0.{attempt + 1}")
        assert sign_in(client, ops.email.upper(), "wrong password") == ""
    client = Client(REMOTE_ADDR="10.0.0.99")
    response = client.post("/accounts/login/", {"login": ops.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert signed_in_user_id(client) is None
    # counted against the one account, whichever address and spelling the attempts came with
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {ops.email}


@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_four_failures_then_the_right_password_still_signs_in(ops: User) -> None:
    client = Client()
    for _ in range(4):
        sign_in(client, ops.email, "wrong password")
    assert sign_in(client, ops.email, PASSWORD) == "/accounts/2fa/authenticate/"


@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_a_locked_account_cannot_sign_in_through_the_admin_either(ops: User) -> None:
    for _ in range(5):
        sign_in(Client(), ops.email, "wrong password")
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": ops.email, "password": PASSWORD})
    assert signed_in_user_id(client) is None
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": ops.email, "password": PASSWORD}
    )
    assert response.status_code == 429


@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_unknown_addresses_are_locked_alike_so_a_lockout_reveals_no_account(db: None) -> None:
    for attempt in range(5):
        sign_in(Client(REMOTE_ADDR=f"10.0.1.{attempt + 1}"), "nobody@nowhere.example", "wrong")
    response = Client(REMOTE_ADDR="10.0.1.99").post(
        "/accounts/login/", {"login": "nobody@nowhere.example", "password": "anything"}
    )
    assert response.status_code == 429


@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_five_failures_from_one_address_on_different_accounts_pause_that_address(
    ops: User,
) -> None:
    """Password spraying: one address trying one password on many accounts."""
    for n in range(5):
        sign_in(Client(REMOTE_ADDR="10.0.2.1"), f"someone{n}@vendor.example", "Summer2026!")
    response = Client(REMOTE_ADDR="10.0.2.1").post(
        "/accounts/login/", {"login": ops.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.0.2.2")
    assert sign_in(elsewhere, ops.email, PASSWORD) == "/accounts/2fa/authenticate/"


@pytest.mark.parametrize(
    ("credentials", "post", "expected"),
    [
        ({"email": " Ops@Vendor.example ", "password": "x"}, {}, "ops@vendor.example"),
        ({"username": "Ops@Vendor.example", "password": "x"}, {}, "ops@vendor.example"),
        (None, {"login": "OPS@vendor.example"}, "ops@vendor.example"),
        (None, {}, ""),
    ],
)
def test_lockout_counts_failures_against_the_address_tried_on_any_path(
    credentials: dict[str, str] | None, post: dict[str, str], expected: str
) -> None:
    request = RequestFactory().post("/accounts/login/", post)
    assert attempted_email(request, credentials) == expected


def test_axes_is_the_first_authentication_backend_and_its_middleware_is_last() -> None:
    from django.conf import settings

    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == ["ip_address", "username"]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy configured: the header is the client's word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the first part may be forged
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_lockout_counts_the_address_the_trusted_proxy_saw(
    proxies: int, forwarded: str, expected: str
) -> None:
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    with override_settings(PORTAL_PROXY_COUNT=proxies):
        assert client_address(request) == expected
