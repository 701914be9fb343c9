"""Binding a user's Telegram chat through a one-time deep link, and the invoice buttons pressed in Telegram."""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from invoices.errors import IllegalTransition, InvoiceError, InvoiceErrorCode
from invoices.models import Invoice, TelegramLinkCode
from invoices.services.lifecycle import invoice_mark_viewed
from invoices.telegram import deep_link

logger = logging.getLogger("thebot.telegram")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@transaction.atomic
def telegram_link_create(*, user: User) -> str:
    """A new one-time deep link for `user` (earlier unused links of theirs stop working)."""
    if not (settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_BOT_USERNAME):
        raise InvoiceError("Telegram is not configured.", InvoiceErrorCode.TELEGRAM_NOT_CONFIGURED, status=503)
    code = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-], as Telegram's start parameter allows
    TelegramLinkCode.objects.filter(user=user).delete()
    TelegramLinkCode.objects.create(
        user=user,
        code_hash=_hash(code),
        expires_at=timezone.now() + timedelta(seconds=settings.TELEGRAM_LINK_TTL_SECONDS),
    )
    return deep_link(code)


@transaction.atomic
def telegram_link_bind(*, code: str, chat_id: int) -> User | None:
    """Bind `chat_id` to the user of a valid code; the code is spent whatever happens. None when invalid."""
    link = TelegramLinkCode.objects.select_for_update().select_related("user").filter(code_hash=_hash(code)).first()
    if link is None:
        return None
    link.delete()
    user = link.user
    if link.expires_at <= timezone.now() or not user.is_active:
        return None
    # One chat belongs to one account: linking it elsewhere unlinks it from the previous account.
    User.objects.filter(telegram_chat_id=chat_id).exclude(pk=user.pk).update(telegram_chat_id=None)
    User.objects.filter(pk=user.pk).update(telegram_chat_id=chat_id)
    logger.info("telegram chat linked", extra={"fields": {"user": user.pk}})
    return user


def telegram_invoice_seen(*, chat_id: int, invoice_id: int) -> str:
    """The parent pressed "Seen": mark the invoice viewed. Returns the short answer shown in Telegram."""
    user = User.objects.filter(telegram_chat_id=chat_id, is_active=True).first()
    if user is None:
        return "This chat is not linked to an account."
    if not Invoice.objects.filter(pk=invoice_id, parent=user).exists():
        return "Invoice not found."
    try:
        invoice_mark_viewed(invoice_id=invoice_id, by=user)
    except IllegalTransition:
        return "Already marked as seen."
    return "Marked as seen."
