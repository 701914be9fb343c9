"""A test urlconf (tests/config/settings_slow.py): the project's URLs plus a view that stays in flight until the test
releases it, for the graceful-shutdown proof (tests/config/test_graceful_shutdown.py)."""

import time
from pathlib import Path

from django.http import JsonResponse
from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them here

RELEASE_WAIT_LIMIT = 120.0  # only ends a broken run: the test releases the request


def slow(request):
    """Writes the `started` file, then answers once the `release` file exists."""
    Path(request.GET["started"]).write_text("started")
    release = Path(request.GET["release"])
    end = time.monotonic() + RELEASE_WAIT_LIMIT
    while not release.exists() and time.monotonic() < end:
        time.sleep(0.02)
    return JsonResponse({"released": release.exists(), "padding": "x" * 10_000})


urlpatterns = [
    path("api/test-slow/", slow),
    path("", include("config.urls")),
]
