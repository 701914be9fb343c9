"""The payment provider behind a small interface, and its YooKassa-style HTTP client.

`payment_provider()` returns the configured provider. Create a payment (with an `Idempotence-Key`, so a retried
create never charges twice), get a payment (the webhook never trusts a notification's body; it re-reads the payment
here), and the second stage of a two-stage payment: capture it or cancel it.

Payments are two-stage (`"capture": false`): the payer's confirmation only holds the money (`waiting_for_capture`),
and the webhook takes it (capture) only while the invoice, locked, can still be paid; otherwise it releases the hold
(cancel). So an invoice cancelled while its parent was on the provider's page is never charged.
"""

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

import httpx
from django.conf import settings

logger = logging.getLogger("thebot.payments")


class PaymentProviderError(Exception):
    """The provider could not be reached or answered something unusable."""


class PaymentNotFound(PaymentProviderError):
    pass


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    status: str
    paid: bool
    amount: Decimal
    currency: str
    confirmation_url: str = ""
    metadata: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    def create_payment(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str,
        metadata: dict,
        idempotence_key: str,
    ) -> ProviderPayment: ...

    def get_payment(self, payment_id: str) -> ProviderPayment: ...

    def capture_payment(
        self, payment_id: str, *, amount: Decimal, currency: str, idempotence_key: str
    ) -> ProviderPayment: ...

    def cancel_payment(self, payment_id: str, *, idempotence_key: str) -> ProviderPayment: ...


def payments_enabled() -> bool:
    return bool(settings.PAYMENT_SHOP_ID and settings.PAYMENT_SECRET_KEY)


class YooKassaClient:
    """A YooKassa-style API: `POST {base}/payments`, `GET {base}/payments/{id}`, HTTP Basic shop id:secret."""

    name = "yookassa"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        shop_id: str | None = None,
        secret_key: str | None = None,
        timeout: float | None = None,
    ):
        self.base_url = (base_url or settings.PAYMENT_API_BASE_URL).rstrip("/")
        self.auth = (shop_id or settings.PAYMENT_SHOP_ID, secret_key or settings.PAYMENT_SECRET_KEY)
        self.timeout = timeout if timeout is not None else settings.PAYMENT_TIMEOUT_SECONDS

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False, auth=self.auth) as http:
                response = http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as error:
            logger.warning("payment provider unreachable", extra={"fields": {"error": type(error).__name__}})
            raise PaymentProviderError(type(error).__name__) from None
        if response.status_code == 404:
            raise PaymentNotFound(path)
        if response.status_code != 200:
            logger.warning("payment provider error", extra={"fields": {"status": response.status_code}})
            raise PaymentProviderError(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise PaymentProviderError("invalid JSON") from None
        if not isinstance(body, dict):
            raise PaymentProviderError("invalid body")
        return body

    def create_payment(
        self,
        *,
        amount: Decimal,
        currency: str,
        description: str,
        return_url: str,
        metadata: dict,
        idempotence_key: str,
    ) -> ProviderPayment:
        body = {
            "amount": {"value": f"{amount:.2f}", "currency": currency},
            "capture": False,  # two-stage: the webhook captures while the invoice can be paid (module docstring)
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": description[:128],
            "metadata": metadata,
        }
        return _parse(self._request("POST", "/payments", json=body, headers={"Idempotence-Key": idempotence_key}))

    def get_payment(self, payment_id: str) -> ProviderPayment:
        return _parse(self._request("GET", f"/payments/{payment_id}"))

    def capture_payment(
        self, payment_id: str, *, amount: Decimal, currency: str, idempotence_key: str
    ) -> ProviderPayment:
        body = {"amount": {"value": f"{amount:.2f}", "currency": currency}}
        return _parse(
            self._request(
                "POST", f"/payments/{payment_id}/capture", json=body, headers={"Idempotence-Key": idempotence_key}
            )
        )

    def cancel_payment(self, payment_id: str, *, idempotence_key: str) -> ProviderPayment:
        return _parse(
            self._request(
                "POST", f"/payments/{payment_id}/cancel", json={}, headers={"Idempotence-Key": idempotence_key}
            )
        )


def _parse(body: dict) -> ProviderPayment:
    try:
        amount = body["amount"]
        return ProviderPayment(
            id=str(body["id"]),
            status=str(body["status"]),
            paid=bool(body.get("paid", False)),
            amount=Decimal(str(amount["value"])),
            currency=str(amount["currency"]),
            confirmation_url=str((body.get("confirmation") or {}).get("confirmation_url") or ""),
            metadata=dict(body.get("metadata") or {}),
            raw=body,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise PaymentProviderError("unexpected payment shape") from None


def payment_provider(*, timeout: float | None = None) -> PaymentProvider:
    """The configured provider; `timeout` (seconds) replaces PAYMENT_TIMEOUT_SECONDS for its calls."""
    return YooKassaClient(timeout=timeout)
