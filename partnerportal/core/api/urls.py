from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("partners/", views.PartnerListCreateApi.as_view(), name="api-partners"),
    path("partners/<int:pk>/", views.PartnerDetailApi.as_view(), name="api-partner-detail"),
    path(
        "partners/<int:pk>/users/", views.PartnerUserCreateApi.as_view(), name="api-partner-users"
    ),
    path(
        "subscription-changes/",
        views.SubscriptionChangeApi.as_view(),
        name="api-subscription-changes",
    ),
    path("activities/", views.ActivityCreateApi.as_view(), name="api-activities"),
    path("audit-events/", views.AuditEventListApi.as_view(), name="api-audit-events"),
]
