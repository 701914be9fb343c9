"""Django's ASGI handler with the middleware chain and the view run in one thread hop per request.

Django's own handler loads the middleware for async: every `MiddlewareMixin` middleware then hops to a
thread and back for its `process_request` and again for `process_response`, a sync-only middleware
(WhiteNoise) hops back to the event loop for the rest of the chain, and the sync view hops once more: about
fifteen event-loop/thread round trips for one request of a sync stack (profiled: see docs/performance.md).
All our views and middleware are sync, so this handler loads the chain for sync, like WSGI, and runs it
with one `sync_to_async` call. The request body is still read on the event loop, the response still sent
there (streaming included), and the per-request `ThreadSensitiveContext` is kept: the request, its database
connection and `request_finished` (which closes that connection) stay on one thread, as under Django's handler.
"""

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        # BaseHandler.get_response: urlconf, the sync chain, resource closers, logging of 4xx/5xx.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> SyncChainASGIHandler:
    """Like django.core.asgi.get_asgi_application (django.setup() first), with the one-hop handler."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
