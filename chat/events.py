"""Live events: built once, sent to every socket of every user concerned.

Events go to users (one channel-layer group per user, STYLE.md): the service computes the list of user ids and
the event's JSON text once; each socket forwards that text as-is, so a delivery costs no serialization. The
channel layer is at-most-once; clients resynchronize from the database by message id.
"""

import asyncio
import json
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# The group message type; the consumer's handler `chat_event` forwards its `text`.
RELAY_TYPE = "chat.event"


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


def event_text(event_type: str, **fields) -> str:
    return json.dumps({"type": event_type, **fields}, separators=(",", ":"), ensure_ascii=False)


async def deliver(user_ids: Iterable[int], text: str) -> None:
    """Send one pre-serialized event to every socket of the given users."""
    layer = get_channel_layer()
    message = {"type": RELAY_TYPE, "text": text}
    await asyncio.gather(*(layer.group_send(user_group(user_id), message) for user_id in set(user_ids)))


def deliver_on_commit(user_ids: Iterable[int], text: str) -> None:
    """Deliver once the current transaction has committed (at once outside one). Blocking until the layer has
    taken the event keeps one sender's events in order for every receiver."""
    recipients = list(user_ids)
    transaction.on_commit(lambda: async_to_sync(deliver)(recipients, text))


def message_event_text(event_type: str, message) -> str:
    from chat.serializers import MessageSerializer

    return event_text(event_type, message=MessageSerializer(message).data)
