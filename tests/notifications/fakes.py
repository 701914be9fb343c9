"""A fake Telegram Bot API as a real HTTP server on 127.0.0.1 (the `fake_telegram` fixture of tests/conftest.py)."""

import time

from tests.http_fake import FakeHttpServer

BOT_TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "webhook-secret-for-tests"


class FakeTelegram(FakeHttpServer):
    """Answers Bot API calls. `script` holds planned answers (consumed in order), each a dict with
    `status`, `body`, `delay`, `headers`; when empty, calls succeed with a new message_id."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.calls: list[dict] = []
        self.script: list[dict] = []
        self.next_message_id = 1000

    def handle(self, request, method, body):
        with self.lock:
            self.calls.append({"path": request.path, "body": body, "at": time.monotonic()})
            planned = self.script.pop(0) if self.script else None
            self.next_message_id += 1
            message_id = self.next_message_id
        if not request.path.startswith(f"/bot{self.token}/"):
            return request._reply(404, {"ok": False, "description": "Not Found"})
        if planned:
            time.sleep(planned.get("delay", 0))
            if "status" in planned:
                return request._reply(planned["status"], planned.get("body"), planned.get("headers"))
        result = {
            "message_id": message_id,
            "chat": {"id": (body or {}).get("chat_id")},
            "text": (body or {}).get("text"),
        }
        return request._reply(200, {"ok": True, "result": result})

    @property
    def sent(self) -> list[dict]:
        return [call["body"] for call in self.calls if call["path"].endswith("/sendMessage")]
