"""The channels a notification can go out on. Telegram is the only one today.

A channel knows whether it is on, how to reach a user (an address, or None: that user cannot be reached on it)
and how to queue one message for them (its own send job). `notifications.services.notify` asks every channel of
CHANNELS in turn; adding email means one more class here (and its job in tasks.py), no change to any caller.
"""

from dataclasses import dataclass
from typing import Protocol

from accounts.models import User
from notifications.tasks import telegram_send_message
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

    def enqueue(self, address: object, notice: Notice) -> None: ...


class TelegramChannel:
    name = "telegram"

    def enabled(self) -> bool:
        return telegram_enabled()

    def address(self, user: User) -> int | None:
        return user.telegram_chat_id

    def enqueue(self, address: object, notice: Notice) -> None:
        optional: dict = {}
        if notice.dedupe_key is not None:
            optional["key"] = notice.dedupe_key
        receipt = (notice.receipts or {}).get(self.name)
        if receipt is not None:
            optional["receipt"] = list(receipt)
        telegram_send_message.enqueue(address, notice.text, notice.buttons, **optional)


CHANNELS: tuple[Channel, ...] = (TelegramChannel(),)
