"""Demo data for a newcomer's first look: a small program with two partners, a provider and
staff of every role, built through the services so it is audited like real data."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import services
from .models import Organisation, Role, User
from .rules import months_back

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 (published demo credential)

STAFF: list[tuple[str, str, str, str]] = [
    ("ops@demo.partnerportal.example", Role.PARTNER_OPS, "", ""),
    ("gs.emea@demo.partnerportal.example", Role.GROWTH_SPECIALIST, "emea", "smb"),
    ("gs@demo.partnerportal.example", Role.GROWTH_SPECIALIST, "", ""),
    ("pdm@demo.partnerportal.example", Role.PDM, "", ""),
    ("finance@demo.partnerportal.example", Role.FINANCE, "", ""),
    ("sat@demo.partnerportal.example", Role.SERVICE_ACCELERATION, "", ""),
    ("cs@demo.partnerportal.example", Role.CUSTOMER_SUCCESS, "", ""),
]

PARTNERS: list[tuple[str, str, str, bool, bool, bool, list[tuple[str, str]]]] = [
    # name, kind, country, certified, pro subscription, paperwork, users
    (
        "Northwind Digital",
        "partner",
        "GB",
        True,
        True,
        True,
        [("admin@northwind.example", "admin"), ("member@northwind.example", "member")],
    ),
    (
        "Bluepeak Agency",
        "partner",
        "FR",
        True,
        True,
        False,
        [("admin@bluepeak.example", "admin"), ("member@bluepeak.example", "member")],
    ),
    ("Atlas Solutions", "provider", "BR", False, False, True, [("admin@atlas.example", "admin")]),
]

# customer domain, name, country, segment, [(line, edition, mrr, currency, seats, months ago)]
CUSTOMERS: list[tuple[str, str, str, str, list[tuple[str, str | None, str, str, int, int]]]] = [
    (
        "acme-retail.co.uk",
        "Acme Retail",
        "GB",
        "smb",
        [
            ("marketing_hub", "professional", "800.00", "GBP", 3, 14),
            ("sales_hub", "starter", "45.00", "GBP", 2, 14),
            ("sales_hub", "professional", "400.00", "GBP", 5, 4),
        ],
    ),
    (
        "globex.fr",
        "Globex",
        "FR",
        "mid_market",
        [
            ("service_hub", "enterprise", "1200.00", "EUR", 10, 8),
            ("credits", None, "150.00", "EUR", 1, 3),
        ],
    ),
    (
        "initech.com.br",
        "Initech Brasil",
        "BR",
        "smb",
        [
            ("marketing_hub", "starter", "20.00", "USD", 1, 20),
            ("marketing_hub", "professional", "890.00", "USD", 3, 6),
        ],
    ),
    (
        "umbrella.co.za",
        "Umbrella Health",
        "ZA",
        "enterprise",
        [("operations_hub", "professional", "14000.00", "ZAR", 4, 5)],
    ),
]

# partner name, customer domain, kind, days ago
ACTIVITIES = [
    ("Northwind Digital", "acme-retail.co.uk", "asset_created", 5),
    ("Northwind Digital", "acme-retail.co.uk", "login", 1),
    ("Northwind Digital", "umbrella.co.za", "asset_edited", 20),
    ("Bluepeak Agency", "globex.fr", "asset_edited", 12),
    ("Bluepeak Agency", "initech.com.br", "login", 3),
    ("Atlas Solutions", "initech.com.br", "asset_created", 9),
]


def seed_demo() -> list[str]:
    """Load the demo program once; return what was done. Re-running changes nothing."""
    done: list[str] = []
    if Organisation.objects.filter(name=PARTNERS[0][0]).exists():
        done.append("Demo data already loaded: nothing to do.")
        return done
    with transaction.atomic():
        staff: dict[str, User] = {}
        for email, role, region, segment in STAFF:
            user, _ = services.staff_create(
                email=email, role=role, region=region, segment=segment, password=DEMO_PASSWORD
            )
            staff[role] = staff.get(role, user)
        ops, pdm = staff[Role.PARTNER_OPS], staff[Role.PDM]
        partners: dict[str, Organisation] = {}
        for name, kind, country, cert, pro, paperwork, users in PARTNERS:
            organisation = services.partner_create(
                actor=ops,
                name=name,
                kind=kind,
                country=country,
                has_partner_certification=cert,
                has_pro_subscription=pro,
                payout_paperwork_complete=paperwork,
                pdm=pdm.email if name == "Northwind Digital" else None,
            )
            partners[name] = organisation
            for email, role in users:
                added = services.partner_user_add(
                    actor=ops, organisation=organisation, email=email, role=role
                )
                if added is None:  # the address has an account elsewhere: a broken demo list
                    raise RuntimeError(f"Demo address {email} is used twice.")
                services.user_password_set(user=added, password=DEMO_PASSWORD, actor=ops)
        today = timezone.localdate()
        for domain, name, country, segment, versions in CUSTOMERS:
            for line, edition, mrr, currency, seats, months_ago in versions:
                services.subscription_change(
                    actor=ops,
                    customer_domain=domain,
                    customer_name=name,
                    country=country,
                    segment=segment,
                    product_line=line,
                    edition=edition,
                    mrr=Decimal(mrr),
                    currency=currency,
                    seats=seats,
                    effective_from=months_back(today, months_ago),
                )
        for partner, domain, kind, days_ago in ACTIVITIES:
            occurred = timezone.make_aware(
                datetime.combine(today - timedelta(days=days_ago), time(10, 0))
            )
            services.activity_record(
                actor=ops,
                partner=partners[partner],
                customer_domain=domain,
                kind=kind,
                occurred_at=occurred,
            )
    done.append(
        f"Loaded demo data: {len(STAFF)} staff, {len(PARTNERS)} partner organisations, "
        f"{len(CUSTOMERS)} customers, {len(ACTIVITIES)} activities."
    )
    return done


def demo_sign_ins() -> list[tuple[str, str]]:
    """(e-mail, what they see) for the README and the run command's banner."""
    return [
        ("admin@northwind.example", "partner admin, Northwind Digital (GB)"),
        ("member@northwind.example", "partner member, Northwind Digital"),
        ("admin@bluepeak.example", "partner admin, Bluepeak Agency (FR)"),
        ("admin@atlas.example", "provider admin, Atlas Solutions (BR)"),
        ("gs.emea@demo.partnerportal.example", "growth specialist, EMEA / SMB"),
        ("gs@demo.partnerportal.example", "growth specialist covering every other territory"),
        ("pdm@demo.partnerportal.example", "PDM of Northwind Digital"),
        ("ops@demo.partnerportal.example", "partner ops (also Django admin)"),
        ("finance@demo.partnerportal.example", "finance"),
        ("cs@demo.partnerportal.example", "customer success (complaints)"),
        ("sat@demo.partnerportal.example", "service acceleration (mediation)"),
        ("admin@summit.example", "partner admin, Summit Partners (Elite)"),
    ]
