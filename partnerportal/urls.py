"""The project's URLs: the composition root mounts the kernel and every app."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

# The Django admin has no sign-in of its own: its login page sends to allauth's, so every
# sign-in passes the same lockout (django-axes) and the staff second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

# Error replies: JSON under /api/, the portal's pages elsewhere.
handler400 = "partnerportal.core.views.bad_request"
handler403 = "partnerportal.core.views.permission_denied"
handler404 = "partnerportal.core.views.page_not_found"
handler500 = "partnerportal.core.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # An organisation's page composes the kernel's facts with other apps' links and actions.
    path("partners/<int:pk>/", views.partner_page, name="partner-detail"),
    path(
        "partners/<int:pk>/elite-invitation/",
        views.partner_elite_invite,
        name="partner-elite-invite",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="core/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("api/v1/", include("partnerportal.core.api.urls")),
    path("api/v1/", include("tiers.api.urls")),
    path("api/v1/", include("deals.api.urls")),
    path("api/v1/", include("escalations.api.urls")),
    path("api/v1/", include("accreditations.api.urls")),
    path("api/v1/", include("commissions.api.urls")),
    path("", include("deals.urls")),
    path("", include("escalations.urls")),
    path("", include("tiers.urls")),
    path("", include("accreditations.urls")),
    path("", include("commissions.urls")),
    path("", include("partnerportal.core.urls")),
]
