"""Commission pages: finance's quarters and statements under /finance/, a partner's own
statements under /statements/."""

from __future__ import annotations

from django.urls import path, register_converter

from . import views


class QuarterConverter:
    """`YYYY-Qn` in a path (the rules' parser decides the rest: a year it refuses is a 404)."""

    regex = "[0-9]{4}-Q[1-4]"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


class ExportFormatConverter:
    regex = "csv|xlsx|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(QuarterConverter, "quarter")
register_converter(ExportFormatConverter, "export_format")

app_name = "commissions"

urlpatterns = [
    path("finance/quarters/", views.quarters, name="quarters"),
    path("finance/quarters/<quarter:quarter>/", views.quarter_detail, name="quarter"),
    path(
        "finance/quarters/<quarter:quarter>/preview/",
        views.quarter_preview,
        name="quarter-preview",
    ),
    path(
        "finance/quarters/<quarter:quarter>/close/",
        views.quarter_close,
        name="quarter-close",
    ),
    path(
        "finance/quarters/<quarter:quarter>/export.<export_format:fmt>",
        views.quarter_export,
        name="quarter-export",
    ),
    path("finance/statements/<int:pk>/", views.finance_statement, name="finance-statement"),
    path(
        "finance/statements/<int:pk>/release/",
        views.statement_release,
        name="statement-release",
    ),
    path(
        "finance/statements/<int:pk>/paid/",
        views.statement_paid,
        name="statement-paid",
    ),
    path("statements/", views.partner_statements, name="statements"),
    path("statements/<int:pk>/", views.partner_statement, name="statement"),
]
