"""Paying invoices against a fake YooKassa-style provider on 127.0.0.1; the webhook marks paid exactly once."""

import base64
import logging
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from invoices.models import Invoice, InvoiceStatus, InvoiceStatusHistory, Payment, PaymentStatus
from invoices.payments import YooKassaClient
from invoices.services import payment_apply_notification
from tests.invoices.fakes import notification
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
S = InvoiceStatus
WEBHOOK = "/api/invoices/payments/webhook/"


def _pay(make_client, invoice):
    return make_client(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/")


def _paid_rows(invoice):
    return InvoiceStatusHistory.objects.filter(invoice=invoice, new_status=S.PAID)


def test_parent_pays_a_sent_invoice(make_client, fake_provider):
    invoice = invoice_in(S.SENT, amount=Decimal("1234.50"))
    response = _pay(make_client, invoice)
    assert response.status_code == 200, response.json()
    payment = Payment.objects.get()
    assert response.json() == {"confirmation_url": f"{fake_provider.url}/pay/{payment.provider_payment_id}"}
    assert (payment.status, payment.amount, payment.currency, payment.provider) == (
        PaymentStatus.PENDING,
        Decimal("1234.50"),
        "RUB",
        "yookassa",
    )
    (create,) = fake_provider.requests
    assert create["key"] == payment.idempotence_key
    assert create["body"]["amount"] == {"value": "1234.50", "currency": "RUB"}
    assert create["body"]["metadata"] == {"invoice_id": str(invoice.pk), "payment_ref": str(payment.pk)}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_id) == (S.VIEWED, payment.pk)  # paying means it was seen
    assert invoice.history.get(new_status=S.VIEWED).reason == "payment started"


def test_paying_again_reuses_the_pending_payment(make_client, fake_provider):
    invoice = invoice_in(S.VIEWED)
    first = _pay(make_client, invoice).json()
    second = _pay(make_client, invoice).json()
    assert first == second
    assert Payment.objects.count() == 1 and len(fake_provider.payments) == 1
    assert [r["method"] for r in fake_provider.requests] == ["POST", "GET"]


def test_an_expired_payment_is_replaced(make_client, fake_provider):
    invoice = invoice_in(S.VIEWED)
    first = _pay(make_client, invoice).json()
    fake_provider.cancel(Payment.objects.get().provider_payment_id)
    second = _pay(make_client, invoice).json()
    assert first != second
    assert list(Payment.objects.order_by("pk").values_list("status", flat=True)) == ["canceled", "pending"]
    assert Invoice.objects.get(pk=invoice.pk).payment_id == Payment.objects.order_by("pk").last().pk


def test_a_payment_already_succeeded_is_not_started_twice(make_client, fake_provider):
    invoice = invoice_in(S.VIEWED)
    _pay(make_client, invoice)
    fake_provider.succeed(Payment.objects.get().provider_payment_id)
    response = _pay(make_client, invoice)
    assert (response.status_code, response.json()["code"]) == (409, "payment_in_progress")
    assert Payment.objects.count() == 1


def test_provider_failure_is_502_and_the_retry_keeps_the_idempotence_key(make_client, fake_provider):
    invoice = invoice_in(S.VIEWED)
    fake_provider.fail_next = 1
    response = _pay(make_client, invoice)
    assert (response.status_code, response.json()["code"]) == (502, "payment_provider_unavailable")
    assert Payment.objects.get().status == PaymentStatus.CREATING
    assert _pay(make_client, invoice).status_code == 200
    keys = [r["key"] for r in fake_provider.requests]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert Payment.objects.count() == 1 and len(fake_provider.payments) == 1


def test_slow_provider_times_out_then_the_retry_gets_the_same_payment(make_client, fake_provider):
    invoice = invoice_in(S.VIEWED)
    fake_provider.delay = 1.0  # the provider still creates the payment, after our 0.5 s timeout
    assert _pay(make_client, invoice).status_code == 502
    fake_provider.delay = 0
    body = _pay(make_client, invoice).json()
    assert len(fake_provider.payments) == 1  # the duplicate answer for the same key
    assert body["confirmation_url"].endswith(Payment.objects.get().provider_payment_id)


@pytest.mark.parametrize("status", [S.DRAFT, S.PAID, S.CANCELLED])
def test_only_open_invoices_are_paid(make_client, fake_provider, status):
    invoice = invoice_in(status)
    response = _pay(make_client, invoice)
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    assert not Payment.objects.exists() and fake_provider.requests == []


def test_pay_without_a_configured_provider_is_503(make_client, settings):
    settings.PAYMENT_SHOP_ID = ""
    invoice = invoice_in(S.SENT)
    response = _pay(make_client, invoice)
    assert (response.status_code, response.json()["code"]) == (503, "payments_not_configured")
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT


def _started(make_client, fake_provider, status=S.VIEWED, **kwargs):
    invoice = invoice_in(status, **kwargs)
    assert _pay(make_client, invoice).status_code == 200
    return invoice, Payment.objects.get(invoice=invoice)


def test_webhook_marks_paid_exactly_once(make_client, api_client, fake_provider):
    invoice, payment = _started(make_client, fake_provider)
    fake_provider.succeed(payment.provider_payment_id)
    response = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert (response.status_code, response.json()) == (200, {"status": "paid"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_id) == (S.PAID, payment.pk)
    assert invoice.paid_at >= invoice.viewed_at
    row = _paid_rows(invoice).get()
    assert (row.old_status, row.changed_by, row.reason) == (S.VIEWED, None, f"payment {payment.provider_payment_id}")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.raw_last_notification == notification(payment.provider_payment_id)

    for event in ("payment.succeeded", "payment.waiting_for_capture", "payment.canceled"):
        late = api_client.post(WEBHOOK, notification(payment.provider_payment_id, event=event), format="json")
        assert late.json() == {"status": "duplicate"}
    assert _paid_rows(invoice).count() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_webhook_body_is_not_trusted(make_client, api_client, fake_provider):
    invoice, payment = _started(make_client, fake_provider)
    forged = notification(payment.provider_payment_id, paid=True, amount={"value": "1500.00", "currency": "RUB"})
    assert api_client.post(WEBHOOK, forged, format="json").json() == {"status": "recorded"}
    assert Invoice.objects.get(pk=invoice.pk).status == S.VIEWED


def test_overdue_invoice_is_paid(make_client, api_client, fake_provider):
    invoice, payment = _started(make_client, fake_provider, status=S.OVERDUE)
    fake_provider.succeed(payment.provider_payment_id)
    assert api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json").json()["status"] == "paid"
    assert _paid_rows(invoice).get().old_status == S.OVERDUE


@pytest.mark.parametrize(("value", "currency"), [("1499.99", None), ("1500.01", None), (None, "USD")])
def test_amount_or_currency_mismatch_changes_nothing(make_client, api_client, fake_provider, caplog, value, currency):
    invoice, payment = _started(make_client, fake_provider)
    fake_provider.succeed(payment.provider_payment_id, value=value, currency=currency)
    with caplog.at_level(logging.ERROR, logger="thebot.payments"):
        response = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert (response.status_code, response.json()) == (200, {"status": "mismatch"})
    assert "mismatch" in caplog.text
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert (invoice.status, payment.status, payment.raw_last_notification) == (S.VIEWED, PaymentStatus.PENDING, None)


def test_unknown_payments_are_200_and_change_nothing(api_client, fake_provider, caplog):
    invoice = invoice_in(S.VIEWED)
    foreign = fake_provider.add_foreign(invoice.amount)
    with caplog.at_level(logging.WARNING, logger="thebot.payments"):
        for payment_id in (foreign, "pay-does-not-exist"):
            response = api_client.post(WEBHOOK, notification(payment_id), format="json")
            assert (response.status_code, response.json()) == (200, {"status": "unknown"})
    assert caplog.text.count("unknown payment") + caplog.text.count("matches no invoice") == 2
    for body in ({}, {"object": {"id": "../../etc"}}, {"object": "x"}, [1, 2]):
        response = api_client.post(WEBHOOK, body, format="json")
        assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert Invoice.objects.get(pk=invoice.pk).status == S.VIEWED


def test_provider_down_during_webhook_is_503_for_a_later_retry(
    make_client, api_client, fake_provider, settings, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    invoice, payment = _started(make_client, fake_provider)
    fake_provider.succeed(payment.provider_payment_id)
    fake_provider.fail_next = 1
    response = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    assert Invoice.objects.get(pk=invoice.pk).status == S.VIEWED
    reads = len(fake_provider.requests)
    # Redelivered at once: this payment was read moments ago, so no second read; the provider delivers it again.
    again = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert (again.status_code, again.json()["code"]) == (503, "payment_check_deferred")
    assert again["Retry-After"] == str(int(settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS))
    assert len(fake_provider.requests) == reads
    time_machine.shift(settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS)
    assert api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json").json()["status"] == "paid"


def test_notification_overtaking_our_own_bookkeeping_is_delivered_again_once_it_is_stored(api_client, fake_provider):
    """The provider may notify before our `pay` stored its payment id: answered 503 without a read, so that the
    provider delivers it again; by then the id is ours and the payment is applied."""
    invoice = invoice_in(S.VIEWED)
    payment = Payment.objects.create(
        invoice=invoice, provider="yookassa", amount=invoice.amount, currency="RUB", idempotence_key=uuid.uuid4().hex
    )
    remote = YooKassaClient().create_payment(
        amount=invoice.amount,
        currency="RUB",
        description="x",
        return_url="https://thebot.example/",
        metadata={"invoice_id": str(invoice.pk), "payment_ref": str(payment.pk)},
        idempotence_key=payment.idempotence_key,
    )
    fake_provider.succeed(remote.id)
    reads = len(fake_provider.requests)
    early = api_client.post(WEBHOOK, notification(remote.id), format="json")
    assert (early.status_code, early.json()["code"]) == (503, "payment_check_deferred")
    assert len(fake_provider.requests) == reads
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id=remote.id, status=PaymentStatus.PENDING)
    assert api_client.post(WEBHOOK, notification(remote.id), format="json").json() == {"status": "paid"}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (S.DRAFT, "ignored"),
        (S.SENT, "ignored"),
        (S.VIEWED, "paid"),
        (S.OVERDUE, "paid"),
        (S.CANCELLED, "ignored"),
        (S.PAID, "duplicate"),
    ],
)
def test_paid_transition_from_every_status(fake_provider, status, outcome):
    """A successful payment applied to an invoice in each status: paid only from viewed and overdue."""
    invoice = invoice_in(status)
    before = Invoice.objects.values().get(pk=invoice.pk)
    history_before = invoice.history.count()
    payment = Payment.objects.create(
        invoice=invoice, provider="yookassa", amount=invoice.amount, currency="RUB", idempotence_key=uuid.uuid4().hex
    )
    remote = YooKassaClient().create_payment(
        amount=invoice.amount,
        currency="RUB",
        description="x",
        return_url="https://thebot.example/",
        metadata={"invoice_id": str(invoice.pk), "payment_ref": str(payment.pk)},
        idempotence_key=payment.idempotence_key,
    )
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id=remote.id, status=PaymentStatus.PENDING)
    fake_provider.succeed(remote.id)
    assert payment_apply_notification(provider_payment_id=remote.id, notification={}) == outcome
    invoice.refresh_from_db()
    if outcome == "paid":
        assert invoice.status == S.PAID and invoice.history.count() == history_before + 1
        assert invoice.history.order_by("-id").first().old_status == status
    else:
        assert Invoice.objects.values().get(pk=invoice.pk) == before
        assert invoice.history.count() == history_before


def test_client_sends_basic_auth_and_idempotence_key(fake_provider):
    YooKassaClient().create_payment(
        amount=Decimal("1.00"),
        currency="RUB",
        description="d",
        return_url="https://x.example/",
        metadata={},
        idempotence_key="key-1",
    )
    assert fake_provider.requests[0]["key"] == "key-1"
    expected = "Basic " + base64.b64encode(b"shop-1:shop-secret").decode()
    assert fake_provider.auth == expected
    wrong = YooKassaClient(secret_key="nope")
    with pytest.raises(Exception, match="HTTP 401"):
        wrong.get_payment("pay-x")


def _held(make_client, fake_provider, status=S.VIEWED):
    """A payment the parent confirmed on the provider's page: two-stage, the money held for capture."""
    invoice, payment = _started(make_client, fake_provider, status)
    assert fake_provider.requests[0]["body"]["capture"] is False
    fake_provider.authorize(payment.provider_payment_id)
    return invoice, payment


def test_a_held_payment_is_captured_while_the_invoice_can_be_paid(make_client, api_client, fake_provider):
    invoice, payment = _held(make_client, fake_provider)
    event = notification(payment.provider_payment_id, event="payment.waiting_for_capture")
    response = api_client.post(WEBHOOK, event, format="json")
    assert (response.status_code, response.json()) == (200, {"status": "paid"})
    assert fake_provider.second_stage == [("capture", payment.provider_payment_id)]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_id) == (S.PAID, payment.pk)
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    capture = fake_provider.requests[-1]
    assert capture["key"] == f"{payment.idempotence_key}-capture"
    assert capture["body"] == {"amount": {"value": "1500.00", "currency": "RUB"}}
    assert api_client.post(WEBHOOK, event, format="json").json() == {"status": "duplicate"}
    assert _paid_rows(invoice).count() == 1 and len(fake_provider.second_stage) == 1


def test_a_held_payment_of_an_invoice_cancelled_meanwhile_is_released_not_taken(make_client, api_client, fake_provider):
    # The parent is on the provider's page when the tutor cancels: the confirmation must not charge them.
    invoice, payment = _held(make_client, fake_provider)
    assert make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/cancel/", {}, format="json").status_code == 200
    event = notification(payment.provider_payment_id, event="payment.waiting_for_capture")
    response = api_client.post(WEBHOOK, event, format="json")
    assert (response.status_code, response.json()) == (200, {"status": "released"})
    assert fake_provider.second_stage == [("cancel", payment.provider_payment_id)]
    assert fake_provider.payments[payment.provider_payment_id]["status"] == "canceled"
    assert Payment.objects.get().status == PaymentStatus.CANCELED
    assert Invoice.objects.get(pk=invoice.pk).status == S.CANCELLED and not _paid_rows(invoice).exists()


def test_a_held_payment_blocks_a_new_attempt(make_client, fake_provider):
    invoice, _ = _held(make_client, fake_provider)
    response = _pay(make_client, invoice)
    assert (response.status_code, response.json()["code"]) == (409, "payment_in_progress")
    assert Payment.objects.count() == 1 and len(fake_provider.payments) == 1


def test_a_failed_capture_is_503_and_changes_nothing(make_client, api_client, fake_provider, time_machine, settings):
    time_machine.move_to(timezone.now(), tick=False)
    invoice, payment = _held(make_client, fake_provider)
    event = notification(payment.provider_payment_id, event="payment.waiting_for_capture")
    fake_provider.fail_second_stage = 1
    response = api_client.post(WEBHOOK, event, format="json")
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    assert Invoice.objects.get(pk=invoice.pk).status == S.VIEWED
    assert Payment.objects.get().status == PaymentStatus.PENDING  # rolled back with the rest
    # The provider delivers it again once this payment's read interval has passed (the failed read kept its claim).
    time_machine.shift(settings.PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS)
    assert api_client.post(WEBHOOK, event, format="json").json() == {"status": "paid"}  # the redelivery
