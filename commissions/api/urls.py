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
    path("statements/", views.StatementListApi.as_view(), name="api-statements"),
    path("statements/export/", views.StatementExportApi.as_view(), name="api-statements-export"),
    path("statements/<int:pk>/", views.StatementDetailApi.as_view(), name="api-statement"),
    path(
        "statements/<int:pk>/release/",
        views.StatementReleaseApi.as_view(),
        name="api-statement-release",
    ),
    path(
        "statements/<int:pk>/payment/",
        views.StatementPaymentApi.as_view(),
        name="api-statement-payment",
    ),
    path("quarter-closes/", views.QuarterCloseApi.as_view(), name="api-quarter-closes"),
]
