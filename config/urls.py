from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from config import health, metrics_view
from config.exceptions import API_NOT_FOUND, api_not_found
from config.schema_view import SchemaView
from config.views import IndexView

handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"

urlpatterns = [
    path("", IndexView.as_view(), name="index"),
    path("admin/", admin.site.urls),
    path("api/health/", health.health, name="health"),
    path("api/health/ready/", health.readiness, name="health-ready"),
    path("metrics", metrics_view.metrics, name="metrics"),  # Prometheus, internal (config/metrics.py)
    path("api/schema/", SchemaView.as_view(authentication_classes=[], permission_classes=[]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="redoc",
    ),
    path("api/", include("accounts.urls")),
    path("api/", include("people.urls")),
    path("api/materials/", include("materials.urls")),
    path("api/scheduling/", include("scheduling.urls")),
    path("api/assignments/", include("assignments.urls")),
    path("api/chat/", include("chat.urls")),
    path("api/", include("invoices.urls")),
    path("api/", include("notifications.urls")),
    # Anything else under /api/ is a JSON 404 (also with DEBUG on), or a redirect to the path with a slash.
    re_path(r"^api/", api_not_found, name=API_NOT_FOUND),
]
