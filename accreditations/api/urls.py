from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("certifications/", views.CertificationListCreateApi.as_view(), name="api-certifications"),
    path("accreditations/", views.AccreditationListCreateApi.as_view(), name="api-accreditations"),
    path(
        "accreditations/<int:pk>/",
        views.AccreditationDetailApi.as_view(),
        name="api-accreditation-detail",
    ),
    path(
        "accreditations/<int:pk>/decision/",
        views.BoardDecisionApi.as_view(),
        name="api-accreditation-decision",
    ),
    path("accreditation-reviews/", views.ReviewRunApi.as_view(), name="api-accreditation-reviews"),
]
