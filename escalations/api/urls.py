from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("escalations/", views.EscalationListCreateApi.as_view(), name="api-escalations"),
    path(
        "escalations/<int:pk>/",
        views.EscalationDetailApi.as_view(),
        name="api-escalation-detail",
    ),
    path(
        "escalations/<int:pk>/transitions/",
        views.EscalationTransitionApi.as_view(),
        name="api-escalation-transitions",
    ),
    path("partners/<int:pk>/marks/", views.PartnerMarksApi.as_view(), name="api-partner-marks"),
    path("consequences/", views.ConsequenceListCreateApi.as_view(), name="api-consequences"),
    path(
        "consequences/<int:pk>/end/",
        views.ConsequenceEndApi.as_view(),
        name="api-consequence-end",
    ),
]
