"""The shared test cast (STYLE 5), loaded for every test by the root conftest.py: two partner
organisations with an admin and a member each, a provider, a growth specialist, a PDM
(assigned to partner A), partner ops and finance. Later capabilities extend it; every
endpoint and page is tried against it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from celery.worker import WorkController
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from deals.models import Territory
from partnerportal.core.models import Organisation, Role, User

from .factories import (
    OrganisationFactory,
    PartnerUserFactory,
    UserFactory,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Cast:
    org_a: Organisation
    org_b: Organisation
    provider: Organisation
    admin_a: User
    member_a: User
    admin_b: User
    member_b: User
    provider_admin: User
    gs: User
    pdm: User
    ops: User
    finance: User

    def people(self) -> dict[str, User]:
        return {name: value for name, value in vars(self).items() if isinstance(value, User)}


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_totp(user: User) -> None:
    """Give a staff user a second factor so the MFA requirement lets them through pages."""
    TOTP.activate(user, TOTP_SECRET)


def current_totp_code() -> str:
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


@pytest.fixture(autouse=True)
def _fresh_redis() -> None:
    """Start every test with an empty test Redis database (cache, used one-time codes, the
    test Celery queue): tests share nothing through Redis."""
    from django.core.cache import cache

    cache.clear()


def restore_seeded_data(**_: object) -> None:
    """Load again what the data migrations seed (reference data, rule sets, accreditation
    requirements) where it is missing. A transactional test ends with Django flushing every
    table, and the flush then sends `post_migrate`, which calls this: the next test on the same
    process, whichever it is, finds the database as migrations left it. Without it only
    pytest-django's order (transactional tests last) protected the other tests, and an xdist
    worker runs its tests in another order (docs/decisions.md, "Tests on both cores")."""
    from django.apps import apps

    from accreditations.models import AccreditationRequirement
    from commissions.models import UpmarketThreshold
    from partnerportal.core.models import Country
    from tiers.models import TierRuleSet

    if not Country.objects.exists():
        import_module("partnerportal.core.migrations.0002_reference_data").load(apps, None)
    if not TierRuleSet.objects.exists():
        import_module("tiers.migrations.0002_seed_spec_rule_sets").seed(apps, None)
    if not UpmarketThreshold.objects.exists():  # seeded with nothing to backfill when empty
        import_module(
            "commissions.migrations.0003_upmarket_rule_sets_and_backfill_entitlements"
        ).seed_and_backfill(apps, None)
    if not AccreditationRequirement.objects.exists():
        import_module("accreditations.migrations.0002_default_required_certifications").seed(
            apps, None
        )


def pytest_configure() -> None:
    # Once per flush: `post_migrate` is sent for every app, the kernel's is enough.
    from django.apps import apps
    from django.db.models.signals import post_migrate

    post_migrate.connect(
        restore_seeded_data,
        sender=apps.get_app_config("core"),
        dispatch_uid="tests.cast.restore_seeded_data",
    )


@pytest.fixture
def committed_db(transactional_db: None) -> None:
    """A database whose writes commit, for tests where another thread or process reads them
    (a live server, a Celery worker). Django flushes every table after such a test; the
    seeded data comes back through `restore_seeded_data`, called here too in case the
    database was flushed some other way."""
    restore_seeded_data()


@pytest.fixture
def celery_worker(committed_db: None) -> Iterator[WorkController]:
    """A real Celery worker (solo pool, in a thread) consuming the test queue on real Redis.
    Needs committed data, hence `committed_db`."""
    from celery.contrib.testing.worker import start_worker

    from partnerportal.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as worker:
        yield worker


@pytest.fixture
def live_cast(committed_db: None, live_server: object) -> Cast:
    """The cast, committed, for browser tests against the live server."""
    return _make_cast()


@pytest.fixture
def cast(db: None) -> Cast:
    return _make_cast()


def _make_cast() -> Cast:
    org_a = OrganisationFactory(name="Alpha Agency")
    org_b = OrganisationFactory(name="Bravo Builders")
    provider = OrganisationFactory(
        name="Charlie Provider", kind=Organisation.Kind.PROVIDER, has_partner_certification=False
    )
    pdm = UserFactory(email="pdm@vendor.example", role=Role.PDM)
    org_a.pdm = pdm
    org_a.save()
    people = Cast(
        org_a=org_a,
        org_b=org_b,
        provider=provider,
        admin_a=PartnerUserFactory(email="admin@alpha.example", organisation=org_a),
        member_a=PartnerUserFactory(
            email="member@alpha.example", organisation=org_a, role=Role.PARTNER_MEMBER
        ),
        admin_b=PartnerUserFactory(email="admin@bravo.example", organisation=org_b),
        member_b=PartnerUserFactory(
            email="member@bravo.example", organisation=org_b, role=Role.PARTNER_MEMBER
        ),
        provider_admin=PartnerUserFactory(email="admin@charlie.example", organisation=provider),
        gs=UserFactory(
            email="gs@vendor.example", role=Role.GROWTH_SPECIALIST, region="emea", segment="smb"
        ),
        pdm=pdm,
        ops=UserFactory(email="ops@vendor.example", role=Role.PARTNER_OPS, is_staff=True),
        finance=UserFactory(email="finance@vendor.example", role=Role.FINANCE),
    )
    for user in (people.gs, people.pdm, people.ops, people.finance):
        enrol_totp(user)
    # The cast's GS covers every territory (a GS with no region and no segment, SPEC 5).
    Territory.objects.create(region="", segment="", growth_specialist=people.gs)
    return people


def api_as(user: User | None) -> APIClient:
    """An API client authenticated with the user's token (the integration contract)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def browser_as(user: User | None, *, second_factor: bool = True) -> Client:
    """A page client with a signed-in session. For a user with an authenticator, the session
    has passed the second factor too, as allauth records it after the code was entered
    (`second_factor=False`: a password-only session, which staff pages and the API refuse)."""
    client = Client()
    if user is not None:
        client.force_login(user, backend="partnerportal.core.auth.ModelBackend")
        authenticator = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.TOTP
        ).first()
        now = time.time()
        records: list[dict[str, object]] = [{"method": "password", "at": now}]
        if second_factor and authenticator is not None:
            records.append({"method": "mfa", "at": now, "id": authenticator.pk, "type": "totp"})
        session = client.session
        session[AUTHENTICATION_METHODS_SESSION_KEY] = records
        session.save()
    return client
