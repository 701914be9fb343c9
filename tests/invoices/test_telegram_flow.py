"""Deep-link binding, the Telegram webhook (secret header, /start, "Seen" button) and the invoice message."""

import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from invoices.models import Invoice, InvoiceStatus, TelegramLinkCode
from tests.invoices.conftest import WEBHOOK_SECRET
from tests.invoices.factories import InvoiceFactory
from tests.invoices.helpers import invoice_in

pytestmark = pytest.mark.django_db
S = InvoiceStatus


def _update(api_client, update, secret=WEBHOOK_SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return api_client.post("/api/telegram/webhook/", update, format="json", **headers)


def _start(chat_id, code, update_id=1):
    return {"update_id": update_id, "message": {"message_id": 5, "chat": {"id": chat_id}, "text": f"/start {code}"}}


def _link_code(make_client, user) -> str:
    response = make_client(user).post("/api/profile/me/telegram/")
    assert response.status_code == 200
    url = response.json()["url"]
    assert url.startswith("https://t.me/thebot_test_bot?start=")
    return parse_qs(urlparse(url).query)["start"][0]


def test_link_code_is_one_time_hashed_and_binds_the_chat(make_client, api_client, parent, telegram_settings):
    code = _link_code(make_client, parent)
    stored = TelegramLinkCode.objects.get(user=parent)
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest() and code not in stored.code_hash
    response = _update(api_client, _start(555, code))
    assert response.status_code == 200
    assert response.json() == {"method": "sendMessage", "chat_id": 555, "text": "Your account is linked."}
    parent.refresh_from_db()
    assert parent.telegram_chat_id == 555
    assert make_client(parent).get("/api/profile/me/").json()["telegram_linked"] is True

    # The same update delivered again, or the code reused from another chat: harmless, nothing rebinds.
    again = _update(api_client, _start(555, code))
    assert again.json()["text"].startswith("This link is invalid")
    _update(api_client, _start(777, code, update_id=2))
    parent.refresh_from_db()
    assert parent.telegram_chat_id == 555
    assert not TelegramLinkCode.objects.exists()


def test_group_chats_are_not_bound(make_client, api_client, parent, telegram_settings):
    code = _link_code(make_client, parent)
    update = _start(-100, code)
    update["message"]["chat"]["type"] = "group"
    assert _update(api_client, update).json() == {}
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None
    assert _update(api_client, _start(100, code)).json()["text"] == "Your account is linked."


def test_new_link_replaces_the_old_one(make_client, api_client, parent, telegram_settings):
    old = _link_code(make_client, parent)
    new = _link_code(make_client, parent)
    assert _update(api_client, _start(1, old)).json()["text"].startswith("This link is invalid")
    assert _update(api_client, _start(1, new)).json()["text"] == "Your account is linked."


def test_expired_code_does_not_bind(make_client, api_client, parent, telegram_settings, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    code = _link_code(make_client, parent)
    time_machine.shift(settings.TELEGRAM_LINK_TTL_SECONDS)
    assert _update(api_client, _start(9, code)).json()["text"].startswith("This link is invalid")
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None


def test_linking_a_chat_to_another_account_moves_it(make_client, api_client, parent, tutor, telegram_settings):
    _update(api_client, _start(31, _link_code(make_client, parent)))
    _update(api_client, _start(31, _link_code(make_client, tutor)))
    assert dict(User.objects.filter(pk__in=[parent.pk, tutor.pk]).values_list("pk", "telegram_chat_id")) == {
        parent.pk: None,
        tutor.pk: 31,
    }


def test_link_without_telegram_configured_is_503(make_client, parent, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    response = make_client(parent).post("/api/profile/me/telegram/")
    assert (response.status_code, response.json()["code"]) == (503, "telegram_not_configured")


@pytest.mark.parametrize("secret", [None, "", "wrong", WEBHOOK_SECRET + "x"])
def test_webhook_refuses_a_missing_or_wrong_secret(make_client, api_client, parent, telegram_settings, secret):
    code = _link_code(make_client, parent)
    response = _update(api_client, _start(5, code), secret=secret)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    parent.refresh_from_db()
    assert parent.telegram_chat_id is None
    assert TelegramLinkCode.objects.filter(user=parent).exists()


def test_webhook_is_off_without_a_configured_secret(api_client, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert _update(api_client, {"update_id": 1}, secret="").status_code == 403


def test_webhook_acknowledges_other_updates(api_client, telegram_settings):
    for update in [{"update_id": 1}, {"update_id": 2, "message": {"chat": {"id": 1}, "text": "hi"}}, {"message": 3}]:
        response = _update(api_client, update)
        assert (response.status_code, response.json()) == (200, {})
    assert _update(api_client, _start(1, "")).json()["text"].startswith("This link is invalid")


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
    return DBTaskResult.objects.filter(task_path="invoices.tasks.invoice_notify_parent")


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
    assert _notification_jobs().count() == 2


def test_no_job_is_queued_while_telegram_is_off(make_client, settings, django_capture_on_commit_callbacks):
    settings.TELEGRAM_BOT_TOKEN = ""
    invoice = InvoiceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/")
    assert not _notification_jobs().exists()
    assert Invoice.objects.get(pk=invoice.pk).status == S.SENT
