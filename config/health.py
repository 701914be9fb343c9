"""Liveness and readiness.

Liveness (`/api/health/`) is answered by `HealthFastPath` in front of Django's ASGI handler: no database,
no middleware, no thread hop. The Django view below serves the same answer under WSGI and in tests.
"""

import json
import threading
import time
import uuid
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.response import Response

from config.middleware import incoming_request_id
from config.schema import api_errors
from jobs.selectors import newest_worker_beat

HEALTH_PATH = "/api/health/"
HEALTH_BODY = json.dumps({"status": "ok"}).encode()


@extend_schema(responses=inline_serializer("Health", {"status": serializers.CharField()}))
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def health(request):
    return Response({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it stored")
    cache.delete(key)


def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    # A group send reaches the layer's store (a PUBLISH on Redis) and leaves nothing behind, where a channel
    # created for the check would stay subscribed for the life of the process.
    async_to_sync(layer.group_send)("health.readiness", {"type": "health.check"})


def _check_worker() -> None:
    newest = newest_worker_beat()
    if newest is None:
        raise RuntimeError("no worker has ever beaten")
    if timezone.now() - newest > timedelta(seconds=settings.READINESS_WORKER_MAX_AGE_SECONDS):
        raise RuntimeError("the newest worker heartbeat is too old")


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "channel_layer": _check_channel_layer}
WORKER_CHECK = {"worker": _check_worker}


class _Check(threading.Thread):
    """One readiness check in its own thread (and its own database connection, closed when it ends)."""

    def __init__(self, name, check):
        super().__init__(daemon=True, name=f"readiness-{name}")
        self.check = check
        self.outcome = None

    def run(self) -> None:
        try:
            self.check()
            self.outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure makes the part "failing"
            self.outcome = f"failing: {type(exc).__name__}"
        finally:
            connection.close()


# Per process: a check still running from an earlier request (a hung connection) is not started again, so
# hung checks cannot pile up threads; it answers "failing: timeout" until it ends.
_running: dict[str, _Check] = {}
_running_lock = threading.Lock()


def run_checks() -> dict[str, str]:
    """Run every check at once and wait for them together at most READINESS_TIMEOUT_SECONDS; a check that has
    not answered by then is "failing: timeout"."""
    checks = dict(READINESS_CHECKS)
    if settings.READINESS_EXPECT_WORKER:
        checks.update(WORKER_CHECK)
    started: dict[str, _Check] = {}
    with _running_lock:
        for name, check in checks.items():
            previous = _running.get(name)
            if previous is not None and previous.is_alive():
                started[name] = previous
                continue
            started[name] = _running[name] = _Check(name, check)
            started[name].start()
    deadline = time.monotonic() + settings.READINESS_TIMEOUT_SECONDS
    for thread in started.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: thread.outcome or "failing: timeout" for name, thread in started.items()}


@api_errors({503: ["not_ready"]})
@extend_schema(
    responses={
        200: inline_serializer("Readiness", {"status": serializers.CharField(), "checks": serializers.DictField()})
    }
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def readiness(request):
    checks = run_checks()
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        return Response(
            {
                "status": "unavailable",
                "code": "not_ready",
                "detail": "Failing: " + ", ".join(failing),
                "checks": checks,
            },
            status=503,
        )
    return Response({"status": "ok", "checks": checks})


class HealthFastPath:
    """ASGI wrapper: answers GET/HEAD /api/health/ itself and passes everything else to the wrapped app."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            request_id = None
            for name, value in scope.get("headers", ()):
                if name == b"x-request-id":
                    request_id = value.decode("latin-1")
                    break
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(HEALTH_BODY)).encode()),
                (b"x-request-id", incoming_request_id(request_id).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            body = b"" if scope["method"] == "HEAD" else HEALTH_BODY
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
