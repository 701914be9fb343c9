"""The send job of each channel (Telegram, email); `notifications.services.notify` enqueues them.

`telegram_send_message(chat_id, text, buttons, key=…)` sends one message. A failing send re-enqueues itself with
`run_after` (exponential backoff, or Telegram's `retry_after`) up to TELEGRAM_JOB_MAX_ATTEMPTS; then it gives up
and the job is FAILED. Nothing here can fail or roll back the caller's work: jobs run after it has committed.

A message sent with a `key` goes out at most once per key and attempt, even when its job is run again after its
worker died (jobs/effects.py `effect_once`, recorded before the Bot API call): a re-run finds the record and sends
nothing. The window left: a worker dying between that record and the call loses the message instead. A keyed
message withdrawn before its job ran (`notifications.services.withdraw`) is not sent at all.

`email_send_message(to, subject, text, html, key=…, headers=…)` sends one email through Django's email framework
(EMAIL_BACKEND: SMTP, or files under var/mail/ by default), with the same at-most-once record per key, recipient
and attempt (`email:<key>:<to>#<attempt>`, a unique JobEffect row), the same withdrawal, and retries with
exponential backoff up to EMAIL_JOB_MAX_ATTEMPTS on a temporary failure (connection refused or lost, timeout, a
4xx reply). A recipient the server refuses for good (5xx) is not retried. Each channel has its own job: one
failing never holds up another.
"""

import logging
import smtplib
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
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


class EmailRetryLater(Exception):
    pass


def _permanent(error: Exception) -> bool:
    """An SMTP refusal that retrying cannot fix: every recipient refused with 5xx, or a 5xx to the message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


@task()
def email_send_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attempt: int = 1,
    key: str | None = None,
    headers: dict | None = None,
) -> bool:
    """Send one email (plain text, with an HTML alternative); True once handed to the mail server. `key`: at most
    once per key and attempt, and withdrawable (see above)."""
    if not settings.EMAIL_NOTIFICATIONS:
        logger.info("email off; message dropped")
        return False
    if key is not None:
        if JobEffect.objects.filter(key=withdrawn_key(key)).exists():
            logger.info("email withdrawn; not sent")
            return False
        if not effect_once(f"email:{key}:{to}#{attempt}"):
            return False
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to],
        headers=headers or {},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        if _permanent(error):
            logger.warning("email rejected", extra={"fields": {"error": type(error).__name__}})
            return False
        if attempt >= settings.EMAIL_JOB_MAX_ATTEMPTS:
            logger.error("email given up", extra={"fields": {"attempts": attempt, "error": type(error).__name__}})
            raise EmailRetryLater(f"gave up after {attempt} attempts") from None
        delay = settings.EMAIL_JOB_BACKOFF_SECONDS * 2 ** (attempt - 1)
        optional = {name: value for name, value in (("key", key), ("headers", headers)) if value is not None}
        email_send_message.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            to, subject, text, html, attempt=attempt + 1, **optional
        )
        logger.info(
            "email re-queued",
            extra={"fields": {"attempt": attempt + 1, "delay": delay, "error": type(error).__name__}},
        )
        return False
    logger.info("email sent", extra={"fields": {"attempt": attempt}})
    return True
