"""Writes of notifications: sending a notice through every channel, linking a Telegram chat through a one-time deep
link, and answering Telegram's updates (the webhook's protocol, parsed here; the view only checks the secret)."""

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from config.parsing import BIGINT_MAX, InvalidInput, parse_int
from core import caching
from jobs.effects import effect_once
from notifications.channels import CHANNELS, Notice
from notifications.errors import NotificationError, NotificationErrorCode
from notifications.models import TelegramLinkCode
from notifications.tasks import withdrawn_key
from notifications.telegram import deep_link

logger = logging.getLogger("thebot.telegram")


def notify(
    user: User,
    *,
    event: str,
    text: str,
    buttons: list[list[dict]] | None = None,
    dedupe_key: str | None = None,
    receipts: dict[str, list] | None = None,
) -> list[str]:
    """Queue `text` for `user` on every channel that is on and reaches them (one send job each); returns the names
    of those channels (empty: nobody was told). Call it after your transaction committed.

    `dedupe_key` makes the notice go out at most once per channel, even when a job is run again, and lets
    `withdraw` cancel it while it is still queued. `receipts` asks a channel to store the id of the message it sent
    on a row of the caller's ({"telegram": [model label, pk, field]})."""
    notice = Notice(event=event, text=text, buttons=buttons, dedupe_key=dedupe_key, receipts=receipts)
    used = []
    for channel in CHANNELS:
        address = channel.address(user) if channel.enabled() else None
        if address is None:
            continue
        channel.enqueue(address, notice)
        used.append(channel.name)
    if used:
        logger.info("notice queued", extra={"fields": {"event": event, "user": user.pk, "channels": used}})
    return used


def reachable(user: User) -> bool:
    """Whether some channel has an address for `user` (a linked Telegram chat today), on or off."""
    return any(channel.address(user) is not None for channel in CHANNELS)


def notifications_enabled() -> bool:
    """Whether any channel is on at all (a caller may skip building a notice nobody could be sent)."""
    return any(channel.enabled() for channel in CHANNELS)


def withdraw(*, dedupe_key: str) -> None:
    """A queued notice that no longer applies (the invoice was paid or cancelled before its message went out) is
    not sent. A notice already sent stays sent."""
    effect_once(withdrawn_key(dedupe_key))


# --- Telegram: linking a chat -----------------------------------------------------------------------------------


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@transaction.atomic
def telegram_link_create(*, user: User) -> str:
    """A new one-time deep link for `user` (earlier unused links of theirs stop working)."""
    if not (settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_BOT_USERNAME):
        raise NotificationError(
            "Telegram is not configured.", NotificationErrorCode.TELEGRAM_NOT_CONFIGURED, status=503
        )
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
    caching.invalidate(caching.PEOPLE)  # telegram_linked, of this user and of the one unlinked
    logger.info("telegram chat linked", extra={"fields": {"user": user.pk}})
    return user


# --- Telegram: the webhook's updates ----------------------------------------------------------------------------

# "<action>:<id>": the data of every button we send (notifications.telegram.callback_data).
_CALLBACK = re.compile(r"([a-z_]{1,32}):([0-9]{1,18})")


def _chat_id(value) -> int | None:
    """A Telegram chat id (a JSON integer, negative for groups) that a BigIntegerField holds, else None."""
    try:
        return parse_int(value, min_value=-BIGINT_MAX, max_value=BIGINT_MAX) if isinstance(value, int) else None
    except InvalidInput:
        return None


def telegram_update_answer(update: object) -> dict:
    """The answer to one Telegram update, as a Bot API method for Telegram to execute ({} when none).

    `/start <code>` in a private chat binds the chat; a pressed button runs the service that
    settings.TELEGRAM_CALLBACK_ACTIONS names for its action, with the chat's linked user. Anything else: {}."""
    update = update if isinstance(update, dict) else {}
    if isinstance(update.get("message"), dict):
        return _message(update["message"])
    if isinstance(update.get("callback_query"), dict):
        return _callback(update["callback_query"])
    return {}


def _message(message: dict) -> dict:
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_id, text = _chat_id(chat.get("id")), message.get("text")
    if chat_id is None or not isinstance(text, str) or not text.startswith("/start"):
        return {}
    if chat.get("type", "private") != "private":
        # Notices are personal: an account is bound to a person's private chat, never to a group.
        return {}
    parts = text.split(maxsplit=1)
    code = parts[1].strip() if len(parts) == 2 else ""
    user = telegram_link_bind(code=code[:64], chat_id=chat_id) if code else None
    reply = "Your account is linked." if user else "This link is invalid or expired. Ask for a new one."
    return {"method": "sendMessage", "chat_id": chat_id, "text": reply}


def _callback(callback: dict) -> dict:
    callback_id = callback.get("id")
    data = callback.get("data")
    chat_id = _chat_id(
        ((callback.get("message") or {}).get("chat") or {}).get("id") or (callback.get("from") or {}).get("id")
    )
    if not isinstance(callback_id, str) or chat_id is None:
        return {}
    return {"method": "answerCallbackQuery", "callback_query_id": callback_id, "text": _callback_answer(data, chat_id)}


def _callback_answer(data: object, chat_id: int) -> str:
    action = _CALLBACK.fullmatch(data) if isinstance(data, str) else None
    handler_path = settings.TELEGRAM_CALLBACK_ACTIONS.get(action.group(1)) if action else None
    if handler_path is None:
        return "Unknown action."
    user = User.objects.filter(telegram_chat_id=chat_id, is_active=True).first()
    if user is None:
        return "This chat is not linked to an account."
    return import_string(handler_path)(user=user, object_id=int(action.group(2)))
