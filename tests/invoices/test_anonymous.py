"""The invoices app's anonymous endpoints are exactly its two webhooks (each verifies its caller itself)."""

from django.urls import URLPattern, URLResolver
from rest_framework.permissions import AllowAny

from invoices import urls


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = pattern.callback
            yield str(pattern.pattern), getattr(view, "cls", None) or getattr(view, "view_class", None)


def test_only_the_webhooks_are_anonymous():
    anonymous = {
        route
        for route, view_class in _views(urls.urlpatterns)
        if any(permission is AllowAny for permission in view_class.permission_classes)
    }
    assert anonymous == {"invoices/payments/webhook/", "telegram/webhook/"}
