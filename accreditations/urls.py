from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("accreditations/", views.accreditations, name="accreditations"),
    path("accreditations/apply/", views.apply, name="accreditations-apply"),
    path("accreditations/board/", views.board, name="accreditations-board"),
    path("accreditations/<int:pk>/", views.detail, name="accreditations-detail"),
    path("accreditations/<int:pk>/decision/", views.decide, name="accreditations-decide"),
]
