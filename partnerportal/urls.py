"""The project's URLs: the composition root mounts the kernel and every app."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("partnerportal.core.api.urls")),
    path("api/v1/", include("tiers.api.urls")),
    path("api/v1/", include("deals.api.urls")),
    path("", include("deals.urls")),
    path("", include("tiers.urls")),
    path("", include("partnerportal.core.urls")),
]
