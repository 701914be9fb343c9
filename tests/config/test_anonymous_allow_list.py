"""Deny by default: the views open to anonymous callers are an explicit list that cannot grow silently.

Walks every URL of config.urls and every WebSocket route of config.routing. A DRF view is anonymous when its
permission classes are empty or all let an anonymous request through (AllowAny, IsAuthenticatedOrReadOnly on a
safe method, ...). An app that adds a public endpoint (a webhook, a feed by secret) adds it to ANONYMOUS_API_VIEWS
below, with a reason; no WebSocket route is anonymous (ANONYMOUS_WEBSOCKET_ROUTES stays empty).
"""

from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from config.routing import websocket_urlpatterns

# route → why it is public
ANONYMOUS_API_VIEWS = {
    "": "the index at /: name, version and links to the docs",
    "api/health/": "liveness probe",
    "api/health/ready/": "readiness probe",
    "api/auth/login/": "signing in",
    "api/schema/": "OpenAPI schema",
    "api/docs/": "Swagger UI",
    "api/redoc/": "ReDoc",
    "api/scheduling/^feed/(?P<secret>[0-9a-f]{1,128})\\.ics$": "calendar feed, authorized by its secret URL",
    "api/telegram/webhook/": "Telegram updates, authorized by the secret-token header",
    "api/invoices/payments/webhook/": "payment notifications, verified by re-reading the payment from the provider",
    "api/auth/password-reset/": "asking for a password reset link by email (the same answer for any address)",
    "api/auth/password-reset/confirm/": "setting a new password with the link's signed, single-use token",
    "api/notifications/unsubscribe/": "an email's unsubscribe link, authorized by its signed token",
}
# WebSocket routes (config.routing) open to a caller without a valid ticket: none. Every route authenticates with a
# single-use ticket from `POST /api/chat/ws-ticket/` (an authenticated operation) and closes with 4401 otherwise:
# tests/security/test_websocket_access.py proves it per route for the five kinds of bad credentials.
ANONYMOUS_WEBSOCKET_ROUTES: dict[str, str] = {}
# Every WebSocket route → how it authenticates. A new route must be added here (and is then swept by
# tests/security/test_websocket_access.py).
WEBSOCKET_ROUTES = {"ws/chat/": "single-use ticket, then the ticket's session and user are checked"}
# Plain Django views under /api/ (no DRF permission layer at all): only the JSON 404 catch-all.
PLAIN_API_VIEWS = {"^api/"}


def walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def websocket_routes() -> list[str]:

    return sorted(route for route, _ in walk(websocket_urlpatterns))


def drf_view(callback):
    view_class = getattr(callback, "cls", None)
    if view_class is None or not issubclass(view_class, APIView):
        return None
    view = view_class(**getattr(callback, "initkwargs", {}))
    actions = getattr(callback, "actions", None)
    if actions:
        # A viewset route: its HTTP methods map to actions; permissions may look at `view.action`.
        return view, {method.upper(): action for method, action in actions.items()}
    methods = [name for name in view.http_method_names if name != "options" and hasattr(view, name)]
    return view, {method.upper(): None for method in methods}


def allows_anonymous(view, method: str, action: str | None) -> bool:
    request = Request(APIRequestFactory().generic(method, "/"))
    request.user = AnonymousUser()
    view.request, view.action, view.args, view.kwargs = request, action, (), {}
    return all(permission.has_permission(request, view) for permission in view.get_permissions())


def test_anonymous_views_are_exactly_the_allow_list():
    anonymous, plain, checked = set(), set(), set()
    for route, callback in walk(get_resolver("config.urls").url_patterns):
        found = drf_view(callback)
        if found is None:
            if route.startswith(("api/", "^api/")):
                plain.add(route)
            continue
        view, methods = found
        checked.add(route)
        if any(allows_anonymous(view, method, action) for method, action in methods.items()):
            anonymous.add(route)

    # The walk saw the protected views too (router routes included).
    assert {"api/profile/me/", "api/auth/logout/", "api/admin/users/"} <= checked
    assert anonymous == set(ANONYMOUS_API_VIEWS)
    assert plain == PLAIN_API_VIEWS


def test_an_anonymous_request_really_gets_through_and_others_get_401(api_client, db):
    assert api_client.get("/").status_code == 200
    assert api_client.get("/api/health/").status_code == 200
    assert api_client.get("/api/schema/").status_code == 200
    assert api_client.get("/api/docs/").status_code == 200
    assert api_client.get("/api/redoc/").status_code == 200
    assert api_client.post("/api/auth/login/", {}, format="json").status_code == 400
    assert api_client.post("/api/auth/logout/").status_code == 401
    assert api_client.get("/api/admin/users/").status_code == 401


def test_websocket_routes_are_exactly_the_known_ones_and_none_is_anonymous():
    assert websocket_routes() == sorted(WEBSOCKET_ROUTES)
    assert ANONYMOUS_WEBSOCKET_ROUTES == {}
