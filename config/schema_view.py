"""`GET /api/schema/`, generated once per process.

drf-spectacular generates the schema on every request, and its generation is not thread-safe: it binds each view
class's shared schema inspector to the view being inspected and loads its extensions' classes lazily, so parallel
requests (one thread each under ASGI or a threaded server) raised 500s or returned incomplete schemas. Here the
first request generates it under a lock and every later one is answered from that copy (the schema depends only
on the code; a test that changes the settings or the URLs clears it).
"""

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_urlconf
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_lock = threading.Lock()
_schemas: dict[tuple, dict] = {}


@receiver(setting_changed)
def _forget_schemas(**kwargs) -> None:
    with _lock:
        _schemas.clear()


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (
            str(self.urlconf or get_urlconf() or settings.ROOT_URLCONF),
            version,
            translation.get_language(),
            self.serve_public,
        )
        with _lock:
            schema = _schemas.get(key) if self.serve_public else None
            if schema is None:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                # A public schema is the same for every caller: it is generated without the request.
                schema = generator.get_schema(request=None if self.serve_public else request, public=self.serve_public)
                if self.serve_public:
                    _schemas[key] = schema
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
