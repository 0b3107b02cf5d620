"""Reference data of SPEC 3-4: countries (region, growth market), currencies with the amount
worth USD 100 for points, editions and product lines. Partner ops edit it later in the admin."""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations

from ._countries import COUNTRIES

CURRENCIES = [
    ("USD", "US dollar", Decimal("100")),
    ("AUD", "Australian dollar", Decimal("105")),
    ("COP", "Colombian peso", Decimal("300300")),
    ("EUR", "Euro", Decimal("75")),
    ("GBP", "Pound sterling", Decimal("62.5")),
    ("SGD", "Singapore dollar", Decimal("140")),
    ("JPY", "Japanese yen", Decimal("12000")),
    ("ZAR", "South African rand", Decimal("1545")),
    ("CAD", "Canadian dollar", Decimal("130")),
]

EDITIONS = [
    ("starter", "Starter", 1),
    ("professional", "Professional", 2),
    ("enterprise", "Enterprise", 3),
]

HUBS = [
    ("marketing_hub", "Marketing Hub"),
    ("sales_hub", "Sales Hub"),
    ("service_hub", "Service Hub"),
    ("content_hub", "Content Hub"),
    ("operations_hub", "Operations Hub"),
]
OTHER_LINES = [
    ("credits", "HubSpot Credits", "credits"),
    ("reports_addon", "Reports Add-on", "hub_agnostic"),
    ("core_seats", "Core Seats", "hub_agnostic"),
]


def load(apps, schema_editor):
    Country = apps.get_model("core", "Country")
    Currency = apps.get_model("core", "Currency")
    Edition = apps.get_model("core", "Edition")
    ProductLine = apps.get_model("core", "ProductLine")
    Country.objects.bulk_create(
        [Country(code=c, name=n, region=r, growth_market=g) for c, n, r, g in COUNTRIES]
    )
    Currency.objects.bulk_create(
        [Currency(code=c, name=n, points_amount=a) for c, n, a in CURRENCIES]
    )
    editions = Edition.objects.bulk_create(
        [Edition(code=c, name=n, rank=r) for c, n, r in EDITIONS]
    )
    for code, name in HUBS:
        ProductLine.objects.create(code=code, name=name, kind="hub").editions.set(editions)
    for code, name, kind in OTHER_LINES:
        ProductLine.objects.create(code=code, name=name, kind=kind)


def unload(apps, schema_editor):
    for model in ("ProductLine", "Edition", "Currency", "Country"):
        apps.get_model("core", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_kernel")]
    operations = [migrations.RunPython(load, unload)]
