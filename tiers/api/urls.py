from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("tier-runs/", views.TierRunApi.as_view(), name="api-tier-runs"),
    path("partners/<int:pk>/tier/", views.PartnerTierApi.as_view(), name="api-partner-tier"),
    path(
        "partners/<int:pk>/tier-assessments/",
        views.PartnerAssessmentListApi.as_view(),
        name="api-partner-tier-assessments",
    ),
    path(
        "partners/<int:pk>/elite-invitation/",
        views.EliteInvitationApi.as_view(),
        name="api-partner-elite-invitation",
    ),
]
