"""Every "loss of revenue share" consequence applied before the kernel kept revenue-share stops
gets its stop (`core.RevenueShareStop`, source `escalations.consequence:<id>`), so commissions
stops its accrual and partner ops can end it like a new one. Reversible: the reverse removes
the stops this migration wrote."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    Consequence = apps.get_model("escalations", "Consequence")
    RevenueShareStop = apps.get_model("core", "RevenueShareStop")
    have = set(RevenueShareStop.objects.values_list("source", flat=True))
    RevenueShareStop.objects.bulk_create(
        RevenueShareStop(
            organisation_id=c.organisation_id,
            effective_from=c.effective_from,
            effective_until=c.effective_until,
            source=f"escalations.consequence:{c.pk}",
            reason=c.reason,
        )
        for c in Consequence.objects.filter(kind="revenue_share_loss").order_by("pk")
        if f"escalations.consequence:{c.pk}" not in have
    )


def remove(apps: Any, schema_editor: Any) -> None:
    RevenueShareStop = apps.get_model("core", "RevenueShareStop")
    RevenueShareStop.objects.filter(source__startswith="escalations.consequence:").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0001_cases_transitions_notes_marks_consequences"),
        ("core", "0005_revenue_share_stops"),
    ]

    operations = [migrations.RunPython(backfill, remove)]
