"""The email channel through a real SMTP server (aiosmtpd on 127.0.0.1, the `smtp_server` fixture): what an invoice
notice looks like by email, in the recipient's language, with its unsubscribe link; retries on a temporary refusal,
none on a permanent one, at most once per event, recipient and channel; a failing Telegram never holds up email."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from jobs.models import JobEffect
from notifications.models import NotificationPreference
from notifications.services import notify
from tests.invoices.factories import InvoiceFactory
from tests.notifications.smtp import html_of, text_of

EMAIL_JOB = "notifications.tasks.email_send_message"


def _email_jobs():
    return DBTaskResult.objects.filter(task_path=EMAIL_JOB)


def _run_worker():
    call_command("run_worker", batch=True, no_scheduler=True)


def _send(make_client, invoice, capture):
    with capture(execute=True):
        response = make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/send/")
    assert response.status_code == 200


def _token(message) -> str:
    url = message["List-Unsubscribe"].strip("<>")
    return parse_qs(urlparse(url).query)["token"][0]


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_an_invoice_notice_arrives_by_smtp_with_its_links_and_unsubscribe(
    make_client, api_client, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.INVOICE_PAY_URL_TEMPLATE = "https://thebot.example/pay/{id}"
    invoice = InvoiceFactory(amount="2500.00")
    _send(make_client, invoice, django_capture_on_commit_callbacks)
    assert smtp_server.messages == []  # never on the request path
    _run_worker()
    (message,) = smtp_server.to(invoice.parent.email)
    assert message["Subject"] == "New invoice"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    body = text_of(message)
    assert "2500.00 RUB" in body and invoice.student.full_name in body
    assert f"Pay: https://thebot.example/pay/{invoice.pk}" in body
    assert f'href="https://thebot.example/pay/{invoice.pk}"' in html_of(message)
    token = _token(message)
    assert token in body and token in html_of(message)

    # The link works without signing in: GET shows and changes nothing, POST turns that email off (idempotent).
    shown = api_client.get("/api/notifications/unsubscribe/", {"token": token})
    assert shown.status_code == 200 and shown.json() == {"event": "invoice_sent", "email": True}
    assert not NotificationPreference.objects.exists()
    for _ in range(2):
        done = api_client.post("/api/notifications/unsubscribe/", {"token": token}, format="json")
        assert done.status_code == 200 and done.json() == {"event": "invoice_sent", "email": False}
    pref = NotificationPreference.objects.get(user=invoice.parent, event="invoice_sent")
    assert (pref.telegram, pref.email) == (True, False)

    # The next invoice to that parent is not emailed; no job is even queued.
    second = InvoiceFactory(parent=invoice.parent, tutor=invoice.tutor, student=invoice.student)
    before = _email_jobs().count()
    _send(make_client, second, django_capture_on_commit_callbacks)
    assert _email_jobs().count() == before


@pytest.mark.django_db(transaction=True)
def test_the_email_is_in_the_recipients_language(make_client, smtp_server, django_capture_on_commit_callbacks):
    invoice = InvoiceFactory(amount="900.00")
    User.objects.filter(pk=invoice.parent_id).update(language="ru")
    _send(make_client, invoice, django_capture_on_commit_callbacks)
    _run_worker()
    (message,) = smtp_server.to(invoice.parent.email)
    assert message["Subject"] == "Новый счёт"
    body = text_of(message)
    assert "Сумма: 900.00 RUB" in body and "Оплатить:" in body and "Чтобы отписаться" in body


@pytest.mark.django_db(transaction=True)
def test_telegram_failing_never_holds_up_the_email(
    make_client, smtp_server, fake_telegram, django_capture_on_commit_callbacks
):
    fake_telegram.script = [{"status": 502, "body": None}] * 3
    invoice = InvoiceFactory()
    User.objects.filter(pk=invoice.parent_id).update(telegram_chat_id=9090)
    _send(make_client, invoice, django_capture_on_commit_callbacks)
    _run_worker()
    assert len(smtp_server.to(invoice.parent.email)) == 1
    telegram = DBTaskResult.objects.filter(task_path="notifications.tasks.telegram_send_message")
    assert telegram.filter(status="READY").count() == 1  # Telegram retries later on its own


@pytest.mark.django_db(transaction=True)
def test_a_temporary_refusal_is_retried_later_and_delivered_once(smtp_server, parent, settings):
    settings.EMAIL_JOB_BACKOFF_SECONDS = 60
    smtp_server.script = ["451 4.3.0 Try again later"]
    notify(parent, event="lesson_reminder", text="Lesson soon.", dedupe_key="reminder:1")
    _run_worker()
    assert smtp_server.refused == 1 and smtp_server.messages == []
    retry = _email_jobs().get(status="READY")
    assert retry.run_after > timezone.now() + timedelta(seconds=50)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        _run_worker()
    assert len(smtp_server.to(parent.email)) == 1
    assert JobEffect.objects.filter(key__startswith="email:reminder:1:").count() == 2  # one record per attempt
    # The same notice queued again (a re-run of its caller) is recorded already: nothing more is sent.
    notify(parent, event="lesson_reminder", text="Lesson soon.", dedupe_key="reminder:1")
    _run_worker()
    assert len(smtp_server.to(parent.email)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_permanent_refusal_is_not_retried(smtp_server, parent):
    smtp_server.refuse_recipients[parent.email] = "550 5.1.1 No such mailbox"
    assert notify(parent, event="lesson_reminder", text="Lesson soon.") == ["email"]
    _run_worker()
    (job,) = _email_jobs()
    assert (job.status, job.return_value) == ("SUCCESSFUL", False)
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_server_is_retried_then_given_up(parent, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1.0  # nothing listens on 1
    settings.EMAIL_JOB_MAX_ATTEMPTS, settings.EMAIL_JOB_BACKOFF_SECONDS = 2, 1
    notify(parent, event="lesson_reminder", text="Lesson soon.")
    _run_worker()
    assert _email_jobs().filter(status="READY").count() == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        _run_worker()
    assert sorted(_email_jobs().values_list("status", flat=True)) == ["FAILED", "SUCCESSFUL"]


@pytest.mark.django_db(transaction=True)
def test_a_withdrawn_notice_is_not_emailed(make_client, smtp_server, django_capture_on_commit_callbacks):
    invoice = InvoiceFactory()
    _send(make_client, invoice, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        make_client(invoice.tutor).post(f"/api/invoices/{invoice.pk}/cancel/", {"reason": "typo"}, format="json")
    _run_worker()
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_email_off_or_inactive_users_get_no_email_job(parent, settings):
    settings.EMAIL_NOTIFICATIONS = False
    assert notify(parent, event="invoice_sent", text="x") == []
    settings.EMAIL_NOTIFICATIONS = True
    User.objects.filter(pk=parent.pk).update(is_active=False)
    parent.refresh_from_db()
    assert notify(parent, event="invoice_sent", text="x") == []
    assert not _email_jobs().exists()
