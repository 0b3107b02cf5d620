from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("accrual-runs/", views.AccrualRunApi.as_view(), name="api-accrual-runs"),
    path("partners/<int:pk>/ledger/", views.PartnerLedgerApi.as_view(), name="api-partner-ledger"),
    path(
        "partners/<int:pk>/entitlements/",
        views.PartnerEntitlementsApi.as_view(),
        name="api-partner-entitlements",
    ),
]
