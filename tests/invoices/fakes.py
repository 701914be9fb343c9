"""Fake external services as real HTTP servers on 127.0.0.1: the Telegram Bot API and a YooKassa-style provider."""

import base64
import json
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_TOKEN = "123456:TEST-token"
WEBHOOK_SECRET = "webhook-secret-for-tests"


class _Server:
    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict | None, headers: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw) if raw else {}

            def do_GET(self):
                owner.handle(self, "GET", None)

            def do_POST(self):
                owner.handle(self, "POST", self._body())

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeTelegram(_Server):
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


class FakeProvider(_Server):
    """A YooKassa-style API. Same Idempotence-Key → the same payment (a duplicate answer, as the real one does).
    `fail_next` answers 500 that many times; `delay` slows every answer; `payments` can be edited by tests.

    A payment created with `"capture": false` is two-stage: the payer's confirmation (`authorize`) only holds the
    money (`waiting_for_capture`); `POST /payments/{id}/capture` takes it and `POST /payments/{id}/cancel`
    releases it. With `"capture": true` (or `succeed`) the confirmation takes the money at once."""

    def __init__(self, shop_id: str, secret: str):
        super().__init__()
        self.auth = "Basic " + base64.b64encode(f"{shop_id}:{secret}".encode()).decode()
        self.payments: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[dict] = []
        self.fail_next = 0
        self.delay = 0.0
        self.second_stage: list[tuple[str, str]] = []  # ("capture" | "cancel", payment id) as they took effect
        self.fail_second_stage = 0  # answer 500 to that many capture/cancel calls

    def handle(self, request, method, body):
        time.sleep(self.delay)
        with self.lock:
            self.requests.append(
                {"method": method, "path": request.path, "key": request.headers.get("Idempotence-Key"), "body": body}
            )
            if request.headers.get("Authorization") != self.auth:
                return request._reply(401, {"type": "error", "code": "invalid_credentials"})
            if self.fail_next:
                self.fail_next -= 1
                return request._reply(500, {"type": "error", "code": "internal_server_error"})
            if method == "POST" and request.path == "/payments":
                key = request.headers.get("Idempotence-Key")
                if not key:
                    return request._reply(400, {"type": "error", "code": "invalid_request"})
                if key not in self.by_key:
                    payment_id = f"pay-{uuid.uuid4().hex[:12]}"
                    self.by_key[key] = payment_id
                    self.payments[payment_id] = {
                        "id": payment_id,
                        "status": "pending",
                        "paid": False,
                        "amount": body["amount"],
                        "confirmation": {"type": "redirect", "confirmation_url": f"{self.url}/pay/{payment_id}"},
                        "metadata": body.get("metadata", {}),
                        "capture": body.get("capture", True),
                    }
                return request._reply(200, self.payments[self.by_key[key]])
            if method == "POST" and request.path.startswith("/payments/") and request.path.count("/") == 3:
                return self._second_stage(request, *request.path.split("/")[2:])
            if method == "GET" and request.path.startswith("/payments/"):
                payment = self.payments.get(request.path.rsplit("/", 1)[-1])
                if payment is None:
                    return request._reply(404, {"type": "error", "code": "not_found"})
                return request._reply(200, payment)
            return request._reply(404, {"type": "error", "code": "not_found"})

    def _second_stage(self, request, payment_id: str, verb: str):
        """Capture or cancel a held payment (called under the lock). Repeating a done step answers it again."""
        payment = self.payments.get(payment_id)
        if payment is None or verb not in ("capture", "cancel"):
            return request._reply(404, {"type": "error", "code": "not_found"})
        if not request.headers.get("Idempotence-Key"):
            return request._reply(400, {"type": "error", "code": "invalid_request"})
        if self.fail_second_stage:
            self.fail_second_stage -= 1
            return request._reply(500, {"type": "error", "code": "internal_server_error"})
        done = {"capture": "succeeded", "cancel": "canceled"}[verb]
        if payment["status"] == "waiting_for_capture":
            payment.update(status=done, paid=verb == "capture")
            self.second_stage.append((verb, payment_id))
        elif payment["status"] != done:
            return request._reply(400, {"type": "error", "code": "invalid_request", "status": payment["status"]})
        return request._reply(200, payment)

    def authorize(self, payment_id: str) -> None:
        """The payer confirms on the provider's page: a two-stage payment is held, a one-stage one is taken."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment["status"] != "pending":
                return  # expired, or confirmed already
            two_stage = payment.get("capture") is False
            payment.update(status="waiting_for_capture" if two_stage else "succeeded", paid=True)

    def succeed(self, payment_id: str, *, value: str | None = None, currency: str | None = None) -> None:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(status="succeeded", paid=True)
            if value is not None:
                payment["amount"] = {"value": value, "currency": payment["amount"]["currency"]}
            if currency is not None:
                payment["amount"] = {"value": payment["amount"]["value"], "currency": currency}

    def cancel(self, payment_id: str) -> None:
        with self.lock:
            self.payments[payment_id].update(status="canceled", paid=False)

    def add_foreign(self, value: Decimal, currency: str = "RUB") -> str:
        """A payment at the provider that none of our invoices made."""
        payment_id = f"pay-{uuid.uuid4().hex[:12]}"
        with self.lock:
            self.payments[payment_id] = {
                "id": payment_id,
                "status": "succeeded",
                "paid": True,
                "amount": {"value": f"{value:.2f}", "currency": currency},
                "metadata": {},
            }
        return payment_id


def notification(payment_id: str, event: str = "payment.succeeded", **extra) -> dict:
    return {"type": "notification", "event": event, "object": {"id": payment_id, "status": "succeeded", **extra}}
