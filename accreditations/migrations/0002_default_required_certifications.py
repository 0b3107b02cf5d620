"""SPEC 8's default requirements, as data partner ops may edit: every kind requires the
`solutions_partner` certification and the certification of its own code."""

from __future__ import annotations

from typing import Any

from django.db import migrations

KINDS = ("crm_implementation", "onboarding", "data_migration", "custom_integration")


def seed(apps: Any, schema_editor: Any) -> None:
    requirement = apps.get_model("accreditations", "AccreditationRequirement")
    for kind in KINDS:
        requirement.objects.get_or_create(
            kind=kind, defaults={"certifications": ["solutions_partner", kind]}
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("accreditations", "AccreditationRequirement").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accreditations", "0001_certifications_accreditations_reviews")]

    operations = [migrations.RunPython(seed, unseed)]
