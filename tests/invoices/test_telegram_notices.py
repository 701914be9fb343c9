"""What invoices say in Telegram (through notifications): the parent's message of a sent invoice, with its Pay
and Seen buttons, withdrawn once the invoice is paid or cancelled; the "Seen" button pressed."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from invoices import services
from invoices.locks import invoice_for_update
from invoices.models import Invoice, InvoiceStatus
from tests.invoices.factories import InvoiceFactory
from tests.invoices.helpers import invoice_in
from tests.notifications.fakes import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
S = InvoiceStatus


def _update(api_client, update, secret=WEBHOOK_SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return api_client.post("/api/telegram/webhook/", update, format="json", **headers)


def _seen(chat_id, invoice_id, callback_id="cb-1"):
    return {
        "update_id": 10,
        "callback_query": {
            "id": callback_id,
            "from": {"id": chat_id},
            "message": {"message_id": 3, "chat": {"id": chat_id}},
            "data": f"invoice_seen:{invoice_id}",
        },
    }


def test_seen_button_marks_viewed_once(api_client, telegram_settings):
    invoice = invoice_in(S.SENT)
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=4242)
    response = _update(api_client, _seen(4242, invoice.pk))
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cb-1", "text": "Marked as seen."}
    invoice.refresh_from_db()
    assert invoice.status == S.VIEWED
    row = invoice.history.get(new_status=S.VIEWED)
    assert row.changed_by_id == invoice.parent_id
    assert _update(api_client, _seen(4242, invoice.pk)).json()["text"] == "Already marked as seen."
    assert invoice.history.filter(new_status=S.VIEWED).count() == 1


def test_seen_button_of_someone_else_changes_nothing(api_client, telegram_settings):
    invoice = invoice_in(S.SENT)
    other = InvoiceFactory().parent
    User.objects.filter(pk=other.pk).update(telegram_chat_id=99)
    assert _update(api_client, _seen(99, invoice.pk)).json()["text"] == "Invoice not found."
    assert _update(api_client, _seen(12345, invoice.pk)).json()["text"] == "This chat is not linked to an account."
    bogus = _seen(99, invoice.pk)
    bogus["callback_query"]["data"] = "invoice_seen:1; DROP"
    assert _update(api_client, bogus).json()["text"] == "Unknown action."
    invoice.refresh_from_db()
    assert invoice.status == S.SENT


def _notification_jobs():
    return DBTaskResult.objects.filter(task_path="notifications.tasks.telegram_send_message")


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_sending_an_invoice_messages_the_parent_and_stores_the_message_id(
    make_client, fake_telegram, settings, django_capture_on_commit_callbacks
):
    settings.INVOICE_PAY_URL_TEMPLATE = "https://thebot.example/pay/{id}"
    invoice = InvoiceFactory(amount="2500.00")
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=8080)
    with django_capture_on_commit_callbacks(execute=True):
        response = make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/")
    assert response.status_code == 200
    assert fake_telegram.calls == []  # never on the request path
    call_command("run_worker", batch=True, no_scheduler=True)
    (message,) = fake_telegram.sent
    assert message["chat_id"] == 8080
    assert "2500.00 RUB" in message["text"]
    assert invoice.due_date.isoformat() in message["text"]
    assert invoice.student.full_name in message["text"]
    assert message["reply_markup"]["inline_keyboard"] == [
        [
            {"text": "Pay", "url": f"https://thebot.example/pay/{invoice.pk}"},
            {"text": "Seen", "callback_data": f"invoice_seen:{invoice.pk}"},
        ]
    ]
    invoice.refresh_from_db()
    assert invoice.telegram_message_id == 1001


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_telegram_failure_never_fails_the_invoice(make_client, fake_telegram, django_capture_on_commit_callbacks):
    fake_telegram.script = [{"status": 502, "body": None}] * 3
    invoice = InvoiceFactory()
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=8081)
    with django_capture_on_commit_callbacks(execute=True):
        assert make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/").status_code == 200
    call_command("run_worker", batch=True, no_scheduler=True)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.telegram_message_id) == (S.SENT, None)
    assert _notification_jobs().filter(status="READY").count() == 1  # retried later


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_no_message_without_a_linked_chat_or_once_cancelled(
    make_client, fake_telegram, django_capture_on_commit_callbacks
):
    unlinked = InvoiceFactory()
    cancelled = InvoiceFactory()
    User.objects.filter(pk=cancelled.parent_id).update(telegram_chat_id=1)
    with django_capture_on_commit_callbacks(execute=True):
        for invoice in (unlinked, cancelled):
            make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/")
    make_client(cancelled.tutor).post(f"/api/invoices/{cancelled.pk}/cancel/")
    call_command("run_worker", batch=True, no_scheduler=True)
    assert fake_telegram.calls == []
    # No job for the parent without a chat; the cancelled invoice's job ran and found its message withdrawn.
    (job,) = _notification_jobs()
    assert (job.status, job.return_value) == ("SUCCESSFUL", None)


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_paid_invoice_is_not_announced_after_the_payment(make_client, fake_telegram):
    invoice = InvoiceFactory()
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=2)
    assert make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/").status_code == 200
    services.invoice_mark_viewed(invoice_id=invoice.pk, by=invoice.parent)
    with transaction.atomic():
        services.apply_transition(invoice=invoice_for_update(invoice.pk), new=S.PAID, by=None, reason="paid")
    assert _notification_jobs().get().status == "READY"
    call_command("run_worker", batch=True, no_scheduler=True)
    assert fake_telegram.calls == []


def test_no_job_is_queued_while_telegram_is_off(make_client, settings, django_capture_on_commit_callbacks):
    settings.TELEGRAM_BOT_TOKEN = ""
    invoice = InvoiceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/")
    assert not _notification_jobs().exists()
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT
