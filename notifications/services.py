"""Writes of notifications: sending a notice through the channels the recipient's preferences allow, the
preferences themselves and the unsubscribe links, linking a Telegram chat through a one-time deep link, and
answering Telegram's updates (the webhook's protocol, parsed here; the view only checks the secret)."""

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from accounts.models import User
from config.parsing import BIGINT_MAX, InvalidInput, parse_int
from core import caching
from jobs.effects import effect_once
from notifications import unsubscribe
from notifications.channels import CHANNELS, Notice
from notifications.errors import NotificationError, NotificationErrorCode
from notifications.events import CHANNEL_NAMES, ESSENTIAL_EVENTS, PREFERENCE_EVENTS
from notifications.models import NotificationPreference, TelegramLinkCode
from notifications.tasks import withdrawn_key
from notifications.telegram import deep_link

logger = logging.getLogger("thebot.telegram")


def language_of(user: User) -> str:
    """The language of messages to `user`: their own choice, else the platform's default."""
    return user.language or settings.LANGUAGE_CODE


def preferences(user: User) -> dict[str, dict[str, bool]]:
    """{event: {"telegram": bool, "email": bool}} for every event of the preferences: the user's rows over the
    defaults (one query)."""
    return preferences_of([user])[user.pk]


def preferences_of(users: Iterable[User]) -> dict[int, dict[str, dict[str, bool]]]:
    """`preferences(user)` of every user of `users`, by user id, in one query whatever their number (a job that
    notifies many people reads them all at once)."""
    ids = {user.pk for user in users}
    chosen: dict[int, dict[str, NotificationPreference]] = {pk: {} for pk in ids}
    if ids:
        rows = NotificationPreference.objects.filter(user_id__in=ids, event__in=list(PREFERENCE_EVENTS)).only(
            "user_id", "event", "telegram", "email"
        )
        for row in rows:
            chosen[row.user_id][row.event] = row
    result = {}
    for pk, rows_of_user in chosen.items():
        result[pk] = {}
        for name, kind in PREFERENCE_EVENTS.items():
            row = rows_of_user.get(name)
            result[pk][name] = {
                "telegram": row.telegram if row else kind.telegram,
                "email": row.email if row else kind.email,
            }
    return result


def wanted_channels(event: str, chosen: dict[str, dict[str, bool]] | None) -> set[str]:
    """The channels an `event` may use for a recipient whose preferences are `chosen` (`preferences(user)`): an
    essential event goes by email only, whatever the preferences; an event the preferences do not know goes
    everywhere (a new kind of notice is never silently dropped)."""
    if event in ESSENTIAL_EVENTS:
        return {"email"}
    if chosen is None or event not in chosen:
        return set(CHANNEL_NAMES)
    return {name for name in CHANNEL_NAMES if chosen[event][name]}


def notify(
    user: User,
    *,
    event: str,
    text: str,
    buttons: list[list[dict]] | None = None,
    dedupe_key: str | None = None,
    receipts: dict[str, list] | None = None,
) -> list[str]:
    """Queue `text` for `user` on every channel that is on, reaches them and their preference for `event` allows
    (one send job each); returns the names of those channels (empty: nobody was told). Call it after your
    transaction committed, with `text` already in the recipient's language (`translation.override(language_of(user))`);
    the channel's own words (an email's subject, greeting, footer) are rendered here in that language.

    `dedupe_key` makes the notice go out at most once per channel, even when a job is run again, and lets
    `withdraw` cancel it while it is still queued. `receipts` asks a channel to store the id of the message it sent
    on a row of the caller's ({"telegram": [model label, pk, field]}). A channel failing to queue its job is logged
    and never keeps the others from theirs."""
    notice = Notice(event=event, text=text, buttons=buttons, dedupe_key=dedupe_key, receipts=receipts)
    allowed = wanted_channels(event, None if event in ESSENTIAL_EVENTS else preferences(user))
    used = []
    with translation.override(language_of(user)):
        for channel in CHANNELS:
            if channel.name not in allowed or not channel.enabled():
                continue
            address = channel.address(user)
            if address is None:
                continue
            try:
                channel.enqueue(address, notice, user)
            except Exception:
                logger.exception("notice not queued", extra={"fields": {"event": event, "channel": channel.name}})
                continue
            used.append(channel.name)
    if used:
        logger.info("notice queued", extra={"fields": {"event": event, "user": user.pk, "channels": used}})
    return used


def reachable(user: User, event: str | None = None, *, chosen: dict[str, dict[str, bool]] | None = None) -> bool:
    """Whether some channel that is on has an address for `user` (and, for an `event`, is one their preference
    allows for it). `chosen`: their preferences when the caller already read them (`preferences_of`), else they
    are read here (one query)."""
    if event is None:
        allowed = set(CHANNEL_NAMES)
    else:
        allowed = wanted_channels(event, chosen if chosen is not None else preferences(user))
    return any(
        channel.name in allowed and channel.enabled() and channel.address(user) is not None for channel in CHANNELS
    )


def notifications_enabled() -> bool:
    """Whether any channel is on at all (a caller may skip building a notice nobody could be sent)."""
    return any(channel.enabled() for channel in CHANNELS)


@transaction.atomic
def preferences_update(*, user: User, changes: dict[str, dict[str, bool]]) -> dict[str, dict[str, bool]]:
    """Apply `changes` ({event: {"telegram"?: bool, "email"?: bool}}, events of PREFERENCE_EVENTS) and return the
    whole set. Events and channels not named keep their value."""
    current = preferences(user)
    for event, change in changes.items():
        merged = {**current[event], **change}
        NotificationPreference.objects.update_or_create(
            user=user, event=event, defaults={"telegram": merged["telegram"], "email": merged["email"]}
        )
        current[event] = merged
    return current


def settings_update(*, user: User, language: str | None, changes: dict[str, dict[str, bool]]) -> None:
    """The caller's notification settings: their `language` (None: unchanged) and preferences."""
    with transaction.atomic():
        if language is not None and language != user.language:
            User.objects.filter(pk=user.pk).update(language=language)
            user.language = language
        preferences_update(user=user, changes=changes)


def unsubscribe_target(token: str) -> tuple[User, str] | None:
    """The (active user, event or "*") an unsubscribe token names, or None when the token or its user is not
    valid."""
    read = unsubscribe.read_token(token)
    if read is None:
        return None
    user_id, event = read
    if event != unsubscribe.ALL_EVENTS and event not in PREFERENCE_EVENTS:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, event) if user is not None else None


def unsubscribe_apply(*, user: User, event: str) -> dict[str, dict[str, bool]]:
    """Email off for `event` ("*": every event) of `user`; idempotent."""
    events = list(PREFERENCE_EVENTS) if event == unsubscribe.ALL_EVENTS else [event]
    result = preferences_update(user=user, changes={name: {"email": False} for name in events})
    logger.info("email unsubscribed", extra={"fields": {"user": user.pk, "event": event}})
    return result


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
