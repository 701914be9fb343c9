"""The reference point: a bare ASGI app answering JSON, served by Daphne like the platform
(`daphne bench.bare_asgi:application`). `/api/health/` on our stack is compared with it."""

BODY = b'{"status":"ok"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
