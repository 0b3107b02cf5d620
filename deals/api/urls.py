from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("registrations/", views.RegistrationListCreateApi.as_view(), name="api-registrations"),
    path(
        "registrations/<int:pk>/",
        views.RegistrationDetailApi.as_view(),
        name="api-registration-detail",
    ),
    path(
        "registrations/<int:pk>/approve/",
        views.RegistrationApproveApi.as_view(),
        name="api-registration-approve",
    ),
    path(
        "registrations/<int:pk>/reject/",
        views.RegistrationRejectApi.as_view(),
        name="api-registration-reject",
    ),
    path(
        "registrations/<int:pk>/accept/",
        views.RegistrationAcceptApi.as_view(),
        name="api-registration-accept",
    ),
    path(
        "registrations/<int:pk>/poi/",
        views.RegistrationPoiApi.as_view(),
        name="api-registration-poi",
    ),
    path(
        "registrations/<int:pk>/referrals/",
        views.RegistrationReferralApi.as_view(),
        name="api-registration-referrals",
    ),
    path(
        "registrations/<int:pk>/acknowledge-secondary/",
        views.RegistrationAcknowledgeApi.as_view(),
        name="api-registration-acknowledge",
    ),
    path(
        "registrations/<int:pk>/inquiries/",
        views.RegistrationInquiriesApi.as_view(),
        name="api-registration-inquiries",
    ),
    path("inquiries/<int:pk>/answer/", views.InquiryAnswerApi.as_view(), name="api-inquiry-answer"),
    path("deals/", views.DealCreateApi.as_view(), name="api-deals"),
    path("deals/<int:pk>/", views.DealDetailApi.as_view(), name="api-deal-detail"),
    path(
        "deals/<int:pk>/invitations/",
        views.DealInvitationApi.as_view(),
        name="api-deal-invitations",
    ),
    path("deals/<int:pk>/quote/", views.DealQuoteApi.as_view(), name="api-deal-quote"),
    path("deals/<int:pk>/close/", views.DealCloseApi.as_view(), name="api-deal-close"),
    path(
        "deals/<int:pk>/close-preview/",
        views.DealClosePreviewApi.as_view(),
        name="api-deal-close-preview",
    ),
    path("deals/<int:pk>/decide/", views.DealDecideApi.as_view(), name="api-deal-decide"),
    path("poi/<str:token>/", views.PoiAnswerApi.as_view(), name="api-poi-answer"),
    path(
        "partners/<int:pk>/associations/",
        views.PartnerAssociationsApi.as_view(),
        name="api-partner-associations",
    ),
]
