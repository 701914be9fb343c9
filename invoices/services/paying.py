"""Online payment of invoices: start a payment at the provider, and apply its notifications exactly once."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
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
from invoices.services.notices import notify_payment_received
from notifications.services import notifications_enabled

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


def _payments_not_configured() -> InvoiceError:
    return InvoiceError("Online payment is not configured.", InvoiceErrorCode.PAYMENTS_NOT_CONFIGURED, status=503)


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
            raise _payments_not_configured()
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


class PaymentCheckDeferred(Exception):
    """The notification cannot be checked now without another provider read: the caller answers 503 so that the
    provider delivers it again later (after `retry_after` seconds)."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _check_interval() -> timedelta:
    # Never shorter than a read may take: one read of a payment at a time.
    return timedelta(
        seconds=max(settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS, settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS)
    )


def _claim_provider_read(payment_pk: int) -> bool:
    """Take this payment's provider read for the current interval: one conditional UPDATE, so of any number of
    parallel webhooks, in any number of processes, exactly one gets it (the database serializes the writes)."""
    now = timezone.now()
    return bool(
        Payment.objects.filter(pk=payment_pk, status__in=_OPEN_PAYMENT)
        .filter(Q(provider_checked_at__isnull=True) | Q(provider_checked_at__lte=now - _check_interval()))
        .update(provider_checked_at=now)
    )


def _awaiting_a_provider_id() -> bool:
    """A payment started moments ago whose provider id is not stored yet: a notification may overtake it."""
    recent = timezone.now() - timedelta(minutes=10)
    return Payment.objects.filter(
        status=PaymentStatus.CREATING, provider_payment_id__isnull=True, updated_at__gte=recent
    ).exists()


def payment_apply_notification(
    *, provider_payment_id: str, notification: dict, provider: PaymentProvider | None = None
) -> str:
    """Apply a provider notification. Never trusts its body: re-reads the payment from the provider.

    Anonymous callers cannot drive outbound traffic with it: the provider is read only for a payment of ours that
    can still change (an unknown id, or a payment already succeeded or canceled, is answered from our database),
    at most once per payment and PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS (claimed atomically in the database, so
    across processes), with a short timeout.

    Returns what happened: "paid", "duplicate", "recorded", "released", "unknown", "mismatch" or "ignored".
    Only "paid" changes the invoice, at most once per invoice (row lock; unique provider payment id).
    A payment held for capture is captured while the invoice can be paid, else released ("released"), under the
    invoice's lock: a cancel and a payment of one invoice never both win.
    Raises PaymentProviderError when the provider cannot be reached, and PaymentCheckDeferred when the payment was
    read moments ago or may be ours with its id not stored yet (the caller answers 503 so that it is delivered again).
    """
    if provider is None and not payments_enabled():
        raise _payments_not_configured()
    payment = Payment.objects.filter(provider_payment_id=provider_payment_id).first()
    if payment is None:
        if _awaiting_a_provider_id():
            raise PaymentCheckDeferred(retry_after=int(_check_interval().total_seconds()))
        logger.warning("payment notification for an unknown payment", extra={"fields": {"id": provider_payment_id}})
        return "unknown"
    if payment.status in _FINAL_PAYMENT:
        return "duplicate"
    if not _claim_provider_read(payment.pk):
        if Payment.objects.filter(pk=payment.pk, status__in=_FINAL_PAYMENT).exists():
            return "duplicate"  # settled by the read that held the claim
        raise PaymentCheckDeferred(retry_after=int(_check_interval().total_seconds()))
    provider = provider or payment_provider(timeout=settings.PAYMENT_WEBHOOK_TIMEOUT_SECONDS)
    try:
        remote = provider.get_payment(provider_payment_id)
    except PaymentNotFound:
        logger.error("the provider does not know a payment of ours", extra={"fields": {"id": provider_payment_id}})
        return "unknown"
    if remote.id != provider_payment_id:
        logger.error("the provider answered another payment", extra={"fields": {"id": provider_payment_id}})
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
        if notifications_enabled():
            # robust: a failure is logged and never fails the (already committed) payment.
            transaction.on_commit(lambda: notify_payment_received(invoice), robust=True)
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
