"""Background jobs of invoices: Telegram messages (for every app) and the daily overdue sweep.

`telegram_send_message.enqueue(chat_id, text, buttons)` is the platform's way to message a Telegram chat
(scheduling's lesson reminders use it too). A failing send re-enqueues itself with `run_after` (exponential
backoff, or Telegram's `retry_after`) up to TELEGRAM_JOB_MAX_ATTEMPTS; then it gives up and the job is FAILED.
Nothing here can fail or roll back an invoice: the jobs run after the invoice has committed.

A message sent with a `key` goes out at most once per key and attempt, even when its job is run again after its
worker died (jobs/effects.py `effect_once`, recorded before the Bot API call): a re-run finds the record and sends
nothing. The window left: a worker dying between that record and the call loses the message instead.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from invoices.models import Invoice, InvoiceStatus
from invoices.telegram import (
    TelegramClient,
    TelegramError,
    TelegramRejected,
    TelegramRetryLater,
    invoice_message,
    telegram_enabled,
)
from jobs.effects import effect_once

logger = logging.getLogger("thebot.telegram")


def _deliver(
    *, chat_id: int, text: str, buttons: list | None, attempt: int, retry: Callable[..., object], key: str | None
) -> int | None:
    """Send once (with the client's short in-process retries); on a transient failure schedule the next attempt.
    With a `key`, an attempt already made (by a worker that died) is not made again."""
    if not telegram_enabled():
        logger.info("telegram off; message dropped")
        return None
    if key is not None and not effect_once(f"telegram:{key}#{attempt}"):
        return None
    try:
        return TelegramClient().send_message(chat_id, text, buttons)
    except TelegramRejected:
        return None
    except TelegramRetryLater as error:
        if attempt >= settings.TELEGRAM_JOB_MAX_ATTEMPTS:
            logger.error("telegram message given up", extra={"fields": {"attempts": attempt}})
            raise TelegramError(f"gave up after {attempt} attempts") from None
        delay = error.retry_after or settings.TELEGRAM_JOB_BACKOFF_SECONDS * 2 ** (attempt - 1)
        retry(timezone.now() + timedelta(seconds=delay))
        logger.info("telegram message re-queued", extra={"fields": {"attempt": attempt + 1, "delay": delay}})
        return None


@task()
def telegram_send_message(
    chat_id: int, text: str, buttons: list | None = None, attempt: int = 1, key: str | None = None
) -> int | None:
    """Send `text` (with optional inline `buttons`: rows of {"text", "url"|"callback_data"}); returns message_id.
    `key` names the message for at-most-once delivery across job re-runs (see above)."""
    return _deliver(
        chat_id=chat_id,
        text=text,
        buttons=buttons,
        attempt=attempt,
        key=key,
        retry=lambda run_after: telegram_send_message.using(run_after=run_after).enqueue(
            chat_id, text, buttons, attempt=attempt + 1, **({"key": key} if key is not None else {})
        ),
    )


@task()
def invoice_notify_parent(invoice_id: int, attempt: int = 1) -> int | None:
    """Tell the parent about a sent invoice (amount, due date, student, Pay and Seen buttons); store message_id.

    Built when it runs, not when queued: an invoice cancelled or paid meanwhile is not announced.
    """
    from invoices.services import invoice_set_telegram_message

    invoice = Invoice.objects.select_related("parent", "student").filter(pk=invoice_id).first()
    if (
        invoice is None
        or invoice.status not in (InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.OVERDUE)
        or invoice.telegram_message_id is not None
        or invoice.parent.telegram_chat_id is None
    ):
        return None
    text, buttons = invoice_message(
        amount=invoice.amount,
        currency=invoice.currency,
        due_date=invoice.due_date,
        student_name=invoice.student.full_name,
        pay_url=settings.INVOICE_PAY_URL_TEMPLATE.format(id=invoice.pk),
        invoice_id=invoice.pk,
    )
    message_id = _deliver(
        chat_id=invoice.parent.telegram_chat_id,
        text=text,
        buttons=buttons,
        attempt=attempt,
        key=f"invoice:{invoice_id}",
        retry=lambda run_after: invoice_notify_parent.using(run_after=run_after).enqueue(
            invoice_id, attempt=attempt + 1
        ),
    )
    if message_id is not None:
        invoice_set_telegram_message(invoice_id=invoice_id, message_id=message_id)
    return message_id


def enqueue_invoice_notification(invoice_id: int) -> None:
    if telegram_enabled():
        invoice_notify_parent.enqueue(invoice_id)


@task()
def invoices_mark_overdue_job() -> int:
    """The daily sweep (PERIODIC_JOBS["invoices_mark_overdue"], below)."""
    from invoices.services import invoices_mark_overdue

    return invoices_mark_overdue()


# Periodic jobs of invoices, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {"invoices_mark_overdue": {"task": invoices_mark_overdue_job, "every": 24 * 60 * 60}}
