"""A fake YooKassa-style payment provider as a real HTTP server on 127.0.0.1 (the `fake_provider` fixture)."""

import base64
import time
import uuid
from decimal import Decimal

from tests.http_fake import FakeHttpServer


class FakeProvider(FakeHttpServer):
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
