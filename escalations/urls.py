from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    # Staff: the review queue, raising a complaint, a case and its moves, consequences
    path("escalations/", views.case_list, name="escalations-list"),
    path("escalations/queue/", views.review_queue, name="escalations-queue"),
    path("escalations/new/", views.case_create, name="escalations-create"),
    path("escalations/<int:pk>/", views.case_detail, name="escalations-case"),
    path("escalations/<int:pk>/move/", views.case_move, name="escalations-case-move"),
    path(
        "escalations/consequences/new/",
        views.consequence_create,
        name="escalations-consequence-create",
    ),
    # Marks and consequences of the partner (partner users: their own; staff: ?partner=)
    path("marks/", views.marks, name="escalations-marks"),
]
