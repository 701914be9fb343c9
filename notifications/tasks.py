"""The send job of each channel (Telegram is the only one today); `notifications.services.notify` enqueues them.

`telegram_send_message(chat_id, text, buttons, key=…)` sends one message. A failing send re-enqueues itself with
`run_after` (exponential backoff, or Telegram's `retry_after`) up to TELEGRAM_JOB_MAX_ATTEMPTS; then it gives up
and the job is FAILED. Nothing here can fail or roll back the caller's work: jobs run after it has committed.

A message sent with a `key` goes out at most once per key and attempt, even when its job is run again after its
worker died (jobs/effects.py `effect_once`, recorded before the Bot API call): a re-run finds the record and sends
nothing. The window left: a worker dying between that record and the call loses the message instead. A keyed
message withdrawn before its job ran (`notifications.services.withdraw`) is not sent at all.
"""

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django_tasks import task

from jobs.effects import effect_once
from jobs.models import JobEffect
from notifications.telegram import TelegramClient, TelegramError, TelegramRejected, TelegramRetryLater, telegram_enabled

logger = logging.getLogger("thebot.telegram")


def withdrawn_key(key: str) -> str:
    return f"withdrawn:{key}"


def _record_receipt(receipt: list | None, message_id: int) -> None:
    """Store the channel's message id where the caller of `notify` asked: [model label, pk, field]."""
    if receipt is None:
        return
    label, pk, field = receipt
    apps.get_model(label)._default_manager.filter(pk=pk).update(**{field: message_id})


@task()
def telegram_send_message(
    chat_id: int,
    text: str,
    buttons: list | None = None,
    attempt: int = 1,
    key: str | None = None,
    receipt: list | None = None,
) -> int | None:
    """Send `text` (with optional inline `buttons`: rows of {"text", "url"|"callback_data"}); returns message_id.
    `key` names the message for at-most-once delivery across job re-runs (see above); `receipt` ([model label,
    pk, field]) is where the message id is stored once sent."""
    if not telegram_enabled():
        logger.info("telegram off; message dropped")
        return None
    if key is not None:
        if JobEffect.objects.filter(key=withdrawn_key(key)).exists():
            logger.info("telegram message withdrawn; not sent")
            return None
        if not effect_once(f"telegram:{key}#{attempt}"):
            return None
    try:
        message_id = TelegramClient().send_message(chat_id, text, buttons)
    except TelegramRejected:
        return None
    except TelegramRetryLater as error:
        if attempt >= settings.TELEGRAM_JOB_MAX_ATTEMPTS:
            logger.error("telegram message given up", extra={"fields": {"attempts": attempt}})
            raise TelegramError(f"gave up after {attempt} attempts") from None
        delay = error.retry_after or settings.TELEGRAM_JOB_BACKOFF_SECONDS * 2 ** (attempt - 1)
        optional = {name: value for name, value in (("key", key), ("receipt", receipt)) if value is not None}
        telegram_send_message.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            chat_id, text, buttons, attempt=attempt + 1, **optional
        )
        logger.info("telegram message re-queued", extra={"fields": {"attempt": attempt + 1, "delay": delay}})
        return None
    _record_receipt(receipt, message_id)
    return message_id
