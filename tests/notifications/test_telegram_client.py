"""The Telegram client and the send job against a fake Bot API on 127.0.0.1: slow, failing, throttled answers."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.tasks import telegram_send_message
from notifications.telegram import TelegramClient, TelegramError, TelegramRejected, TelegramRetryLater
from tests.thresholds import threshold

pytestmark = pytest.mark.django_db
BUTTONS = [[{"text": "Open", "url": "https://thebot.example/x"}, {"text": "Seen", "callback_data": "invoice_seen:1"}]]


def _queued():
    return list(DBTaskResult.objects.filter(task_path="notifications.tasks.telegram_send_message", status="READY"))


def test_send_message_posts_to_the_bot_api(fake_telegram):
    message_id = TelegramClient().send_message(42, "hello", BUTTONS)
    assert message_id == 1001
    call = fake_telegram.calls[0]
    assert call["path"] == "/bot123456:TEST-token/sendMessage"
    assert call["body"]["chat_id"] == 42 and call["body"]["text"] == "hello"
    assert call["body"]["reply_markup"] == {"inline_keyboard": BUTTONS}


@pytest.mark.parametrize("attempts", [0, -1])
def test_a_client_configured_with_no_attempts_still_makes_one(fake_telegram, settings, attempts):
    """It used to fall through to `assert last_error is not None` (gone under `python -O`: `raise None`)."""
    settings.TELEGRAM_CLIENT_ATTEMPTS = attempts
    fake_telegram.script = [{"status": 500, "body": {"ok": False}}]
    with pytest.raises(TelegramRetryLater):
        TelegramClient().send_message(1, "x")
    assert len(fake_telegram.calls) == 1
    assert TelegramClient().send_message(1, "x") == 1002


def test_500_then_success_is_retried_in_process(fake_telegram):
    fake_telegram.script = [{"status": 500, "body": {"ok": False}}]
    assert TelegramClient().send_message(1, "x") == 1002
    assert len(fake_telegram.calls) == 2


@pytest.mark.perf
def test_429_short_retry_after_is_honoured(fake_telegram, record_property):
    fake_telegram.script = [{"status": 429, "body": {"ok": False, "parameters": {"retry_after": 1}}}]
    started = time.monotonic()
    TelegramClient().send_message(1, "x")
    first, second = fake_telegram.calls
    assert second["at"] - first["at"] >= 1.0  # a lower bound: no load makes it shorter
    threshold(record_property, "send with one 1 s retry_after", time.monotonic() - started, 3, unit="s")


def test_429_long_retry_after_goes_back_to_the_queue(fake_telegram):
    fake_telegram.script = [{"status": 429, "body": {"ok": False, "parameters": {"retry_after": 30}}}]
    with pytest.raises(TelegramRetryLater) as raised:
        TelegramClient().send_message(1, "x")
    assert raised.value.retry_after == 30
    assert len(fake_telegram.calls) == 1


@pytest.mark.perf
def test_slow_answers_time_out(fake_telegram, record_property):
    fake_telegram.script = [{"delay": 1.0}] * 3
    started = time.monotonic()
    # Each answer (a success) would come after 1 s: the client gives up after its 0.5 s timeout every time.
    with pytest.raises(TelegramRetryLater):
        TelegramClient().send_message(1, "x")
    assert len(fake_telegram.calls) == 3
    # 3 x 0.5 s timeouts, not 3 x 1 s answers
    threshold(record_property, "3 attempts timing out at 0.5 s", time.monotonic() - started, 2.5, unit="s")


def test_redirects_are_not_followed(fake_telegram):
    redirect = {"status": 302, "body": None, "headers": {"Location": "http://127.0.0.1:9/elsewhere"}}
    fake_telegram.script = [redirect] * 3
    with pytest.raises(TelegramRetryLater):
        TelegramClient().send_message(1, "x")
    assert all(call["path"].endswith("/sendMessage") for call in fake_telegram.calls)
    assert len(fake_telegram.calls) == 3


def test_client_error_is_not_retried(fake_telegram):
    fake_telegram.script = [{"status": 403, "body": {"ok": False, "description": "Forbidden: bot was blocked"}}]
    with pytest.raises(TelegramRejected):
        TelegramClient().send_message(1, "x")
    assert len(fake_telegram.calls) == 1


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_job_sends_through_the_worker(fake_telegram):
    telegram_send_message.enqueue(7, "reminder", BUTTONS)
    call_command("run_worker", batch=True, no_scheduler=True)
    expected = {"chat_id": 7, "text": "reminder", "disable_web_page_preview": True}
    assert fake_telegram.sent == [{**expected, "reply_markup": {"inline_keyboard": BUTTONS}}]
    result = DBTaskResult.objects.get(task_path="notifications.tasks.telegram_send_message")
    assert (result.status, result.return_value) == ("SUCCESSFUL", 1001)


def test_job_requeues_with_backoff_then_gives_up(fake_telegram, settings):
    settings.TELEGRAM_JOB_MAX_ATTEMPTS = 3
    settings.TELEGRAM_JOB_BACKOFF_SECONDS = 10
    fake_telegram.script = [{"status": 500, "body": {"ok": False}}] * 9
    before = timezone.now()
    assert telegram_send_message.call(7, "x") is None
    (queued,) = _queued()
    assert queued.args_kwargs == {"args": [7, "x", None], "kwargs": {"attempt": 2}}
    assert before + timedelta(seconds=10) <= queued.run_after <= timezone.now() + timedelta(seconds=10)

    telegram_send_message.call(7, "x", attempt=2)
    second = max(_queued(), key=lambda r: r.run_after)
    assert second.args_kwargs["kwargs"] == {"attempt": 3}
    assert second.run_after >= before + timedelta(seconds=20)  # exponential

    with pytest.raises(TelegramError):
        telegram_send_message.call(7, "x", attempt=3)
    assert len(_queued()) == 2  # nothing more queued: bounded
    assert len(fake_telegram.calls) == 9


def test_job_requeue_honours_retry_after(fake_telegram):
    fake_telegram.script = [{"status": 429, "body": {"ok": False, "parameters": {"retry_after": 120}}}]
    before = timezone.now()
    telegram_send_message.call(7, "x")
    (queued,) = _queued()
    assert queued.run_after >= before + timedelta(seconds=120)


# The worker manages its own connections and transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_queued_retry_is_not_run_before_its_time(fake_telegram):
    fake_telegram.script = [{"status": 429, "body": {"ok": False, "parameters": {"retry_after": 120}}}]
    telegram_send_message.enqueue(7, "x")
    call_command("run_worker", batch=True, no_scheduler=True)
    assert len(fake_telegram.calls) == 1
    assert len(_queued()) == 1


def test_rejected_message_is_dropped_not_requeued(fake_telegram):
    fake_telegram.script = [{"status": 400, "body": {"ok": False, "description": "Bad Request: chat not found"}}]
    assert telegram_send_message.call(7, "x") is None
    assert _queued() == []


def test_job_without_token_does_nothing(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    assert telegram_send_message.call(7, "x") is None
    assert _queued() == []
