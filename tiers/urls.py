from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("partners/<int:pk>/tier/", views.partner_tier, name="tiers-partner"),
    path(
        "partners/<int:pk>/tier/lines.csv",
        views.partner_tier_lines_csv,
        name="tiers-partner-lines-csv",
    ),
    path("tiers/partners/", views.partner_list, name="tiers-partners"),
]
