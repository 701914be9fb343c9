"""The ASGI handler runs Django's (sync) middleware chain and the view in one thread hop per request."""

import json

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from knox.models import AuthToken


def _asgi(path: str, headers: list) -> tuple[dict, bytes]:
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent, requests = [], [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        import asyncio

        await asyncio.sleep(60)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async_to_sync(application)(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start, body


def test_the_middleware_chain_is_loaded_for_sync():
    from config.asgi import django_asgi_app

    assert not iscoroutinefunction(django_asgi_app._middleware_chain)


@pytest.mark.django_db(transaction=True)
def test_an_authenticated_list_over_asgi_goes_through_the_whole_chain(teacher):
    _, token = AuthToken.objects.create(user=teacher)
    headers = [(b"authorization", f"Token {token}".encode()), (b"x-request-id", b"bench-1")]
    start, body = _asgi("/api/materials/", headers)
    assert start["status"] == 200
    assert json.loads(body)["count"] == 0
    sent_headers = {name.lower(): value for name, value in start["headers"]}
    assert sent_headers[b"x-request-id"] == b"bench-1"  # RequestIdMiddleware, outermost
    assert sent_headers[b"x-frame-options"] == b"DENY"  # XFrameOptionsMiddleware, innermost

    start, _ = _asgi("/api/materials/", [(b"authorization", b"Token wrong")])
    assert start["status"] == 401
