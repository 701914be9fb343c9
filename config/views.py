"""Views of the project itself (not of an app): the JSON index at `/`."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class IndexView(APIView):
    """`GET /`: what this server is and where to go next, for anyone (no token read)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                "name": settings.SPECTACULAR_SETTINGS["TITLE"],
                "version": settings.SPECTACULAR_SETTINGS["VERSION"],
                "links": {
                    "docs": "/api/docs/",
                    "schema": "/api/schema/",
                    "redoc": "/api/redoc/",
                    "health": "/api/health/",
                    "admin": "/admin/",
                },
            }
        )
