import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings


def test_liveness_needs_no_auth_and_no_database(api_client):
    # No django_db mark: any database access in this test would raise.
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readiness_reports_every_part(api_client):
    response = api_client.get("/api/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_readiness_names_the_failing_part(api_client):
    broken_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    # A Redis that is not there: port 1 on loopback refuses at once.
    with override_settings(CACHES=broken_cache):
        response = api_client.get("/api/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("failing")
    assert "cache" in body["detail"]


def _asgi_get(path: str, headers: list | None = None, method: str = "GET") -> tuple[dict, bytes]:
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        # After the body the client just waits; the server cancels this when the response is done.
        await asyncio.sleep(60)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async_to_sync(application)(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    start = {**start, "headers": [(name.lower(), value) for name, value in start["headers"]]}
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start, body


def test_liveness_over_asgi_takes_the_fast_path():
    # No django_db mark: a database query would raise. The fast path answers without Django's middleware,
    # so the request-id header comes from the wrapper itself.
    start, body = _asgi_get("/api/health/", headers=[(b"x-request-id", b"probe-7")])
    assert start["status"] == 200
    assert json.loads(body) == {"status": "ok"}
    headers = dict(start["headers"])
    assert headers[b"x-request-id"] == b"probe-7"
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"cache-control"] == b"no-store"

    head, head_body = _asgi_get("/api/health/", method="HEAD")
    assert head["status"] == 200 and head_body == b""
    assert len(dict(head["headers"])[b"x-request-id"]) == 32


@pytest.mark.django_db(transaction=True)
def test_other_paths_over_asgi_reach_django():
    start, body = _asgi_get("/api/nothing-here/", headers=[(b"x-request-id", b"asgi-404")])
    assert start["status"] == 404
    assert json.loads(body)["code"] == "not_found"
    assert dict(start["headers"])[b"x-request-id"] == b"asgi-404"
    # A POST to the liveness path is Django's (405), not the fast path's.
    start, body = _asgi_get("/api/health/", method="POST")
    assert start["status"] == 405


@pytest.mark.django_db
def test_readiness_names_a_failing_channel_layer(api_client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        response = api_client.get("/api/health/ready/")
    finally:
        channel_layers.backends.pop("default", None)
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"].startswith("failing")
    assert response.json()["checks"]["cache"] == "ok"
    assert "channel_layer" in response.json()["detail"]
