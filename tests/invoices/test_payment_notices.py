"""A successful payment tells the parent and the tutor ("payment received") through notifications: the payment
provider, the Telegram Bot API and the SMTP server are fakes on 127.0.0.1, the worker sends. Once per invoice,
recipient and channel, whatever the provider's repeated notifications."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from invoices.models import InvoiceStatus, Payment
from invoices.services.notices import notify_payment_received
from notifications.models import NotificationPreference
from tests.invoices.fakes import notification
from tests.invoices.helpers import invoice_in
from tests.notifications.smtp import text_of

WEBHOOK = "/api/invoices/payments/webhook/"


def _run_worker():
    call_command("run_worker", batch=True, no_scheduler=True)


def _received(smtp_server, address: str) -> list:
    return [mail for mail in smtp_server.to(address) if mail["Subject"] in ("Payment received", "Оплата получена")]


@pytest.mark.django_db(transaction=True)  # real commits: the notices go out after them, the worker runs its jobs
def test_a_paid_invoice_tells_the_parent_and_the_tutor_once(
    make_client, api_client, fake_provider, smtp_server, fake_telegram
):
    invoice = invoice_in(InvoiceStatus.VIEWED, amount=Decimal("1500.00"))
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=4001, language="ru")
    # The tutor has a chat linked but wants these by email only.
    User.objects.filter(pk=invoice.tutor_id).update(telegram_chat_id=4002)
    NotificationPreference.objects.create(user=invoice.tutor, event="payment_received", telegram=False, email=True)
    assert make_client(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/").status_code == 200
    payment = Payment.objects.get(invoice=invoice)
    _run_worker()
    fake_telegram.calls.clear()
    smtp_server.messages.clear()

    fake_provider.succeed(payment.provider_payment_id)
    response = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert response.json() == {"status": "paid"}
    assert smtp_server.messages == []  # never on the webhook's path
    _run_worker()

    (mail,) = _received(smtp_server, invoice.parent.email)
    assert mail["Subject"] == "Оплата получена"
    assert f"Оплата по счёту №{invoice.pk} ({invoice.student.full_name}) получена: 1500.00 RUB" in text_of(mail)
    (message,) = fake_telegram.sent
    assert message["chat_id"] == 4001 and "1500.00 RUB" in message["text"]
    (mail,) = _received(smtp_server, invoice.tutor.email)
    assert mail["Subject"] == "Payment received"
    assert f"Invoice #{invoice.pk} for {invoice.student.full_name} has been paid: 1500.00 RUB." in text_of(mail)

    # The provider notifying again, and the after-commit hook running again, send nothing more.
    again = api_client.post(WEBHOOK, notification(payment.provider_payment_id), format="json")
    assert again.json() == {"status": "duplicate"}
    invoice.refresh_from_db()
    notify_payment_received(invoice)
    _run_worker()
    assert len(smtp_server.messages) == 2 and len(fake_telegram.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_a_payment_that_fails_tells_nobody(make_client, api_client, fake_provider, smtp_server):
    invoice = invoice_in(InvoiceStatus.SENT)
    assert make_client(invoice.parent).post(f"/api/invoices/{invoice.pk}/pay/").status_code == 200
    payment = Payment.objects.get(invoice=invoice)
    fake_provider.cancel(payment.provider_payment_id)
    api_client.post(WEBHOOK, notification(payment.provider_payment_id, event="payment.canceled"), format="json")
    _run_worker()
    assert _received(smtp_server, invoice.parent.email) == [] and _received(smtp_server, invoice.tutor.email) == []
