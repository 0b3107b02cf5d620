from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    # Partners
    path("deals/", views.my_deals, name="deals-mine"),
    path("deals/registrations/<int:pk>/", views.registration_detail, name="deals-registration"),
    path(
        "deals/registrations/<int:pk>/accept/",
        views.registration_accept,
        name="deals-registration-accept",
    ),
    path(
        "deals/registrations/<int:pk>/poi/", views.registration_poi, name="deals-registration-poi"
    ),
    path(
        "deals/registrations/<int:pk>/referral/",
        views.registration_referral,
        name="deals-registration-referral",
    ),
    path(
        "deals/registrations/<int:pk>/acknowledge/",
        views.registration_acknowledge,
        name="deals-registration-acknowledge",
    ),
    path("deals/inquiries/<int:pk>/answer/", views.inquiry_answer, name="deals-inquiry-answer"),
    # Growth specialists (and partner ops, read-only)
    path("deals/workspace/", views.workspace, name="deals-workspace"),
    path("deals/new/", views.deal_create, name="deals-create"),
    path(
        "deals/registrations/<int:pk>/decide/",
        views.registration_decide,
        name="deals-registration-decide",
    ),
    path(
        "deals/registrations/<int:pk>/inquiries/",
        views.inquiry_ask,
        name="deals-registration-ask",
    ),
    path("deals/<int:pk>/", views.deal_detail, name="deals-deal"),
    path("deals/<int:pk>/invite/", views.deal_invite, name="deals-deal-invite"),
    path("deals/<int:pk>/quote/", views.deal_quote, name="deals-deal-quote"),
    path("deals/<int:pk>/close/", views.deal_close, name="deals-deal-close"),
    path("deals/<int:pk>/decide/", views.deal_decide, name="deals-deal-decide"),
    # Partner ops
    path("deals/ties/", views.ties, name="deals-ties"),
    # Customers (no account)
    path("poi/<str:token>/", views.poi_answer, name="poi-answer"),
]
