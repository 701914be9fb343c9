"""The channels a notification can go out on: Telegram and email.

A channel knows whether it is on, how to reach a user (an address, or None: that user cannot be reached on it)
and how to queue one message for them (its own send job). `notifications.services.notify` asks every channel of
CHANNELS the recipient's preference allows, in turn; adding a channel means one more class here (and its job in
tasks.py), no change to any caller.

Email renders `notifications/email/<event>.txt|.html` when the event has its own templates, else
`notifications/email/default.txt|.html`, in the recipient's language (the caller of `notify` is already inside
`translation.override`), with an unsubscribe link (a signed token, `notifications.unsubscribe`) unless the event
is essential (the password reset link).
"""

import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template

from accounts.models import User
from notifications import unsubscribe
from notifications.events import ESSENTIAL_EVENTS, event_type
from notifications.tasks import email_send_message, telegram_send_message
from notifications.telegram import telegram_enabled


@dataclass(frozen=True)
class Notice:
    """One message for one user, as the calling app words it (channels render what they can of it)."""

    event: str  # what happened, e.g. "invoice_sent", "lesson_reminder": for logs and a channel's own templates
    text: str
    buttons: list[list[dict]] | None = None  # rows of {"text", "url"|"callback_data"}; channels without may drop them
    dedupe_key: str | None = None  # at most once per key (and withdrawable by it), whatever the re-runs
    # Where to store the channel's id of the sent message, per channel name: [model label, pk, field].
    receipts: dict[str, list] | None = None


class Channel(Protocol):
    name: str

    def enabled(self) -> bool: ...

    def address(self, user: User) -> object | None: ...

    def enqueue(self, address: object, notice: Notice, user: User) -> None: ...


class TelegramChannel:
    name = "telegram"

    def enabled(self) -> bool:
        return telegram_enabled()

    def address(self, user: User) -> int | None:
        return user.telegram_chat_id

    def enqueue(self, address: object, notice: Notice, user: User) -> None:
        optional: dict = {}
        if notice.dedupe_key is not None:
            optional["key"] = notice.dedupe_key
        receipt = (notice.receipts or {}).get(self.name)
        if receipt is not None:
            optional["receipt"] = list(receipt)
        telegram_send_message.enqueue(address, notice.text, notice.buttons, **optional)


def _template(event: str, extension: str) -> str:
    try:
        return select_template([f"notifications/email/{event}.{extension}"]).template.name
    except TemplateDoesNotExist:
        return f"notifications/email/default.{extension}"


def render_email(notice: Notice, user: User) -> dict:
    """The email of `notice` for `user`, in the active language: {subject, text, html, headers}."""
    kind = event_type(notice.event)
    subject = str(kind.subject) if kind else notice.event.replace("_", " ").capitalize()
    links = [button for row in notice.buttons or [] for button in row if button.get("url")]
    unsubscribe_url = None
    if notice.event not in ESSENTIAL_EVENTS:
        unsubscribe_url = settings.EMAIL_UNSUBSCRIBE_URL_TEMPLATE.format(
            token=unsubscribe.make_token(user.pk, notice.event)
        )
    context = {
        "subject": subject,
        "text": notice.text,
        "links": links,
        "name": user.first_name or user.full_name,
        "unsubscribe_url": unsubscribe_url,
        "event": notice.event,
    }
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>"} if unsubscribe_url else {}
    return {
        "subject": subject,
        "text": render_to_string(_template(notice.event, "txt"), context),
        "html": render_to_string(_template(notice.event, "html"), context),
        "headers": headers,
    }


class EmailChannel:
    name = "email"

    def enabled(self) -> bool:
        return settings.EMAIL_NOTIFICATIONS

    def address(self, user: User) -> str | None:
        return user.email if user.is_active and user.email else None

    def enqueue(self, address: object, notice: Notice, user: User) -> None:
        email = render_email(notice, user)
        # Always keyed: a job run again after its worker died does not send twice (a caller's key also withdraws).
        optional: dict = {"key": notice.dedupe_key or f"notice:{uuid.uuid4().hex}"}
        if email["headers"]:
            optional["headers"] = email["headers"]
        email_send_message.enqueue(address, email["subject"], email["text"], email["html"], **optional)


CHANNELS: tuple[Channel, ...] = (TelegramChannel(), EmailChannel())
