"""A test urlconf: the project's URLs plus views that fail, to check the 500 contract."""

from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them here


class BoomError(RuntimeError):
    pass


SECRET_IN_TRACEBACK = "very-secret-detail-in-the-exception"


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_boom(request):
    raise BoomError(SECRET_IN_TRACEBACK)


def django_boom(request):
    raise BoomError(SECRET_IN_TRACEBACK)


@api_view(["GET"])
@permission_classes([AllowAny])
def drf_boom_with_secret(request, secret):
    raise BoomError(SECRET_IN_TRACEBACK)


def django_boom_with_token(request, token):
    raise BoomError(SECRET_IN_TRACEBACK)


urlpatterns = [
    path("api/test-boom/drf/", drf_boom),
    path("api/test-boom/django/", django_boom),
    # Routes carrying a secret in their path, as the calendar feed does: logged with it redacted.
    path("api/test-boom/drf/<str:secret>/", drf_boom_with_secret),
    path("api/test-boom/django/<str:token>/", django_boom_with_token),
    path("", include("config.urls")),
]
