"""Online payment of invoices: start a payment at the provider, and apply its notifications exactly once."""

import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from config.parsing import InvalidInput, parse_id
from invoices.errors import IllegalTransition, InvoiceError, InvoiceErrorCode
from invoices.locks import invoice_for_update, payment_for_update
from invoices.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from invoices.payments import (
    PaymentNotFound,
    PaymentProvider,
    PaymentProviderError,
    ProviderPayment,
    payment_provider,
    payments_enabled,
)
from invoices.services.lifecycle import apply_transition

logger = logging.getLogger("thebot.payments")

S = InvoiceStatus
PAYABLE = (S.SENT, S.VIEWED, S.OVERDUE)
# A payment still being paid: a new attempt reuses it (pending) or waits for it (held, waiting for capture).
_OPEN_PAYMENT = (PaymentStatus.CREATING, PaymentStatus.PENDING, PaymentStatus.WAITING_FOR_CAPTURE)
_AT_PROVIDER = (PaymentStatus.PENDING, PaymentStatus.WAITING_FOR_CAPTURE)
_FINAL_PAYMENT = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


def _provider_unavailable() -> InvoiceError:
    return InvoiceError(
        "The payment provider is unavailable. Try again later.",
        InvoiceErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
        status=502,
    )


def invoice_pay(*, invoice_id: int, by: User, provider: PaymentProvider | None = None) -> Payment:
    """Start (or resume) the parent's payment of an invoice; returns the payment with its confirmation URL.

    The provider is called outside any transaction and lock. The idempotence key is fixed in our database
    before the call, so retries (a double click, a timeout) reuse it and the provider creates one payment.
    A still-pending payment is re-read and reused; an expired one is replaced by a new attempt.
    """
    with transaction.atomic():
        invoice = invoice_for_update(invoice_id)
        if by.pk != invoice.parent_id:
            raise InvoiceError("Only the invoice's parent pays it.", InvoiceErrorCode.NOT_ALLOWED, status=403)
        if provider is None and not payments_enabled():
            raise InvoiceError(
                "Online payment is not configured.", InvoiceErrorCode.PAYMENTS_NOT_CONFIGURED, status=503
            )
        provider = provider or payment_provider()
        if invoice.status not in PAYABLE:
            raise IllegalTransition(invoice.status, S.PAID)
        if invoice.status == S.SENT:
            # Paying means the parent has seen it; this also keeps sent → paid out of the lifecycle.
            apply_transition(invoice=invoice, new=S.VIEWED, by=by, reason="payment started")
        payment = invoice.payments.filter(status__in=_OPEN_PAYMENT).order_by("-pk").first()
        if payment is None:
            payment = Payment.objects.create(
                invoice=invoice,
                provider=provider.name,
                amount=invoice.amount,
                currency=invoice.currency,
                idempotence_key=uuid.uuid4().hex,
            )
    try:
        if payment.status in _AT_PROVIDER and payment.provider_payment_id:
            remote = provider.get_payment(payment.provider_payment_id)
            if remote.status == PaymentStatus.PENDING and remote.confirmation_url:
                return payment
            _record_remote_status(payment.pk, remote)
            if remote.status != PaymentStatus.CANCELED:
                # Succeeded (its notification is on its way) or otherwise still alive: never start a second one.
                raise InvoiceError(
                    "A payment of this invoice is already being processed.",
                    InvoiceErrorCode.PAYMENT_IN_PROGRESS,
                    status=409,
                )
            return invoice_pay(invoice_id=invoice_id, by=by, provider=provider)
        remote = provider.create_payment(
            amount=payment.amount,
            currency=payment.currency,
            description=f"Invoice #{invoice.pk}",
            return_url=settings.PAYMENT_RETURN_URL.format(id=invoice.pk),
            metadata={"invoice_id": str(invoice.pk), "payment_ref": str(payment.pk)},
            idempotence_key=payment.idempotence_key,
        )
    except PaymentProviderError:
        raise _provider_unavailable() from None
    return _store_created(invoice.pk, payment.pk, remote)


def _record_remote_status(payment_pk: int, remote: ProviderPayment) -> None:
    with transaction.atomic():
        payment = payment_for_update(payment_pk)
        if payment.status not in _FINAL_PAYMENT and remote.status in PaymentStatus.values:
            payment.status = remote.status
            payment.save(update_fields=["status", "updated_at"])


def _store_created(invoice_pk: int, payment_pk: int, remote: ProviderPayment) -> Payment:
    try:
        with transaction.atomic():
            invoice = invoice_for_update(invoice_pk)  # invoice before payment: the webhook's lock order
            payment = payment_for_update(payment_pk)
            if payment.provider_payment_id is None:
                payment.provider_payment_id = remote.id
            if payment.status == PaymentStatus.CREATING:
                payment.status = remote.status if remote.status in PaymentStatus.values else PaymentStatus.PENDING
            payment.confirmation_url = remote.confirmation_url
            payment.save(update_fields=["provider_payment_id", "status", "confirmation_url", "updated_at"])
            if invoice.status in PAYABLE:
                Invoice.objects.filter(pk=invoice.pk).update(payment=payment)
    except IntegrityError:
        logger.error("provider reused a payment id", extra={"fields": {"payment": payment_pk}})
        raise _provider_unavailable() from None
    return payment


def payment_apply_notification(
    *, provider_payment_id: str, notification: dict, provider: PaymentProvider | None = None
) -> str:
    """Apply a provider notification. Never trusts its body: re-reads the payment from the provider.

    Returns what happened: "paid", "duplicate", "recorded", "released", "unknown", "mismatch" or "ignored".
    Only "paid" changes the invoice, at most once per invoice (row lock; unique provider payment id).
    A payment held for capture is captured while the invoice can be paid, else released ("released"), under the
    invoice's lock: a cancel and a payment of one invoice never both win.
    Raises PaymentProviderError when the provider cannot be reached (the caller answers 503 so it retries).
    """
    provider = provider or payment_provider()
    try:
        remote = provider.get_payment(provider_payment_id)
    except PaymentNotFound:
        logger.warning("payment notification for an unknown payment", extra={"fields": {"id": provider_payment_id}})
        return "unknown"
    payment = _local_payment(remote)
    if payment is None:
        logger.warning("provider payment matches no invoice", extra={"fields": {"id": remote.id}})
        return "unknown"
    with transaction.atomic():
        invoice = invoice_for_update(payment.invoice_id)
        payment = payment_for_update(payment.pk)
        if (remote.amount, remote.currency) != (payment.amount, payment.currency) or (
            remote.amount,
            remote.currency,
        ) != (invoice.amount, invoice.currency):
            logger.error(
                "payment amount or currency mismatch",
                extra={"fields": {"id": remote.id, "invoice": invoice.pk, "currency": remote.currency}},
            )
            return "mismatch"
        if payment.provider_payment_id is None:
            payment.provider_payment_id = remote.id
        if payment.status not in _FINAL_PAYMENT and remote.status in PaymentStatus.values:
            payment.status = remote.status
        payment.raw_last_notification = notification
        payment.save(update_fields=["provider_payment_id", "status", "raw_last_notification", "updated_at"])
        if remote.status == PaymentStatus.WAITING_FOR_CAPTURE:
            if payment.status != PaymentStatus.WAITING_FOR_CAPTURE:
                # Read before the lock: a concurrent delivery captured or released it meanwhile.
                paid_by_it = invoice.status == S.PAID and invoice.payment_id == payment.pk
                return "duplicate" if paid_by_it else "recorded"
            remote = _capture_or_release(invoice, payment, provider)
            if remote.status == PaymentStatus.CANCELED:
                return "released"
        if not (remote.status == PaymentStatus.SUCCEEDED and remote.paid):
            return "recorded"
        if invoice.status == S.PAID:
            if invoice.payment_id != payment.pk:
                logger.error(
                    "second successful payment for a paid invoice: refund needed",
                    extra={"fields": {"id": remote.id, "invoice": invoice.pk}},
                )
            return "duplicate"
        try:
            apply_transition(invoice=invoice, new=S.PAID, by=None, reason=f"payment {remote.id}", payment=payment)
        except IllegalTransition:
            logger.error(
                "successful payment for an invoice that cannot be paid",
                extra={"fields": {"id": remote.id, "invoice": invoice.pk, "status": invoice.status}},
            )
            return "ignored"
        logger.info("invoice paid", extra={"fields": {"invoice": invoice.pk, "at": timezone.now().isoformat()}})
        return "paid"


def _capture_or_release(invoice: Invoice, payment: Payment, provider: PaymentProvider) -> ProviderPayment:
    """The second stage of a held payment, under the invoice's and the payment's locks: take the money while the
    invoice can be paid by this payment, else give it back. The provider call is made holding the locks (bounded
    by PAYMENT_TIMEOUT_SECONDS): a concurrent cancel waits for it, then finds the invoice paid (409). A failed call
    rolls everything back and raises PaymentProviderError: the notification is answered 503 and comes again."""
    payable = invoice.status in PAYABLE
    if payable:
        remote = provider.capture_payment(
            payment.provider_payment_id,
            amount=payment.amount,
            currency=payment.currency,
            idempotence_key=f"{payment.idempotence_key}-capture",
        )
    else:
        remote = provider.cancel_payment(
            payment.provider_payment_id, idempotence_key=f"{payment.idempotence_key}-cancel"
        )
        logger.info(
            "held payment released: the invoice can no longer be paid",
            extra={"fields": {"id": payment.provider_payment_id, "invoice": invoice.pk, "status": invoice.status}},
        )
    if remote.status in PaymentStatus.values and payment.status not in _FINAL_PAYMENT:
        payment.status = remote.status
        payment.save(update_fields=["status", "updated_at"])
    return remote


def _local_payment(remote: ProviderPayment) -> Payment | None:
    payment = Payment.objects.filter(provider_payment_id=remote.id).first()
    if payment is not None:
        return payment
    # The notification may overtake our own storing of the provider's id (see invoice_pay): the metadata we
    # sent, read back from the provider (so not forgeable by the notifier), names our payment.
    ref, invoice_ref = remote.metadata.get("payment_ref"), remote.metadata.get("invoice_id")
    try:
        ref, invoice_ref = parse_id(ref), parse_id(invoice_ref)
    except InvalidInput:
        return None
    return Payment.objects.filter(pk=ref, invoice_id=invoice_ref, provider_payment_id__isnull=True).first()
