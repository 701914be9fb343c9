"""ASGI entry point: HTTP goes to Django (liveness answered up front), `/ws/` to Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.asgi_handler import get_asgi_application

# Django's ASGI handler, with the (sync) middleware chain and view run in one thread hop per request.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.body_limits import BodyLimitGuard  # noqa: E402
from config.health import HealthFastPath  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Body limits per route under any ASGI server (config/server.py refuses earlier, as the body streams in).
        "http": BodyLimitGuard(HealthFastPath(django_asgi_app)),
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded so far (Django, the apps, every view and serializer module behind the URLconf) lives as
# long as the process: take it out of the garbage collector's full passes. Measured under `make loadtest`: the
# full collections over it stalled the server ~200 ms every half minute (p99 of every endpoint); a full pass
# over the loaded process took 77 ms before `freeze`, 0.006 ms after.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - import every view module now, not on the first request
gc.collect()
gc.freeze()
