"""The anonymous endpoints of invoices and notifications are exactly their webhooks (each verifies its caller
itself)."""

from django.urls import URLPattern, URLResolver
from rest_framework.permissions import AllowAny

from invoices import urls
from notifications import urls as notification_urls


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = pattern.callback
            yield str(pattern.pattern), getattr(view, "cls", None) or getattr(view, "view_class", None)


def _anonymous(patterns) -> set[str]:
    return {
        route
        for route, view_class in _views(patterns)
        if any(permission is AllowAny for permission in view_class.permission_classes)
    }


def test_only_the_webhooks_are_anonymous():
    assert _anonymous(urls.urlpatterns) == {"invoices/payments/webhook/"}
    # Beside Telegram's webhook, the unsubscribe link of emails (authorized by its signed token).
    assert _anonymous(notification_urls.urlpatterns) == {"telegram/webhook/", "notifications/unsubscribe/"}
