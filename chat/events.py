"""Live events: serialized once, then fanned out by the channel layer to every socket concerned.

Group layout, chosen by measurement (docs/architecture.md "Chat"): one group per room, which every socket of every
member joins (at connect, and on `chat.membership` events when someone joins or leaves a room), plus one group per
user for events addressed to people rather than rooms (presence, membership changes). A room event is one
`group_send` to one group: with the Redis pub/sub layer, one PUBLISH that each server process receives once and
hands to its own sockets in the room. With a group per user, the same broadcast into a 50-member room cost 50
`group_send`s, and with the list-based layer 50 entries in each process's single inbox, which overflowed its
capacity (lost deliveries) and capped throughput near 50 deliveries/s per process.

Every event is JSON text built once by its producer; consumers forward it as-is, so a delivery costs no
serialization. The layer is at-most-once: everything that matters is in the database with an id, and
clients resynchronize by id.
"""

import asyncio
import functools
import json
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Group message types; the consumer's handlers are named after them (`chat_event`, `chat_typing`, ...).
RELAY_TYPE = "chat.event"
TYPING_TYPE = "chat.typing"
MEMBERSHIP_TYPE = "chat.membership"


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


def room_group(room_id: int) -> str:
    return f"chat.room.{room_id}"


def event_text(event_type: str, **fields) -> str:
    return json.dumps({"type": event_type, **fields}, separators=(",", ":"), ensure_ascii=False)


def message_json(message) -> str:
    """The message as JSON, serialized once per stored state: a send's broadcast and its ack share it."""
    cached = getattr(message, "_event_json", None)
    if cached is None or cached[0] != (message.text, message.edited_at, message.deleted_at):
        data = json.dumps(_message_serializer().to_representation(message), separators=(",", ":"), ensure_ascii=False)
        cached = ((message.text, message.edited_at, message.deleted_at), data)
        message._event_json = cached
    return cached[1]


@functools.cache
def _message_serializer():
    """One serializer for every event: building its fields per message cost more than serializing."""
    from chat.serializers import MessageSerializer

    return MessageSerializer()


def message_event_text(event_type: str, message) -> str:
    return f'{{"type":"{event_type}","message":{message_json(message)}}}'


def ack_text(client_id: str, message) -> str:
    client_id_json = json.dumps(client_id, ensure_ascii=False)
    return f'{{"type":"ack","client_id":{client_id_json},"message":{message_json(message)}}}'


async def deliver_to_room(room_id: int, text: str, *, layer_type: str = RELAY_TYPE, **extra) -> None:
    """The room's id goes along so that a socket that has just left the room drops an event already queued."""
    message = {"type": layer_type, "text": text, "room": room_id, **extra}
    await get_channel_layer().group_send(room_group(room_id), message)


async def deliver_to_users(user_ids: Iterable[int], text: str) -> None:
    layer = get_channel_layer()
    message = {"type": RELAY_TYPE, "text": text}
    await asyncio.gather(*(layer.group_send(user_group(user_id), message) for user_id in set(user_ids)))


def room_event_on_commit(room_id: int, text: str) -> None:
    """Send a room event once the current transaction has committed. Blocking until the layer has taken it
    keeps one sender's events in order for every receiver."""
    transaction.on_commit(lambda: async_to_sync(deliver_to_room)(room_id, text))


async def _membership_send(user_ids: list[int], room_id: int, joined: bool) -> None:
    layer = get_channel_layer()
    message = {"type": MEMBERSHIP_TYPE, "room": room_id, "joined": joined}
    await asyncio.gather(*(layer.group_send(user_group(user_id), message) for user_id in set(user_ids)))


def membership_on_commit(user_ids: Iterable[int], room_id: int, *, joined: bool) -> None:
    """Tell the users' open sockets to join (or leave) the room's group after commit."""
    recipients = list(user_ids)
    if recipients:
        transaction.on_commit(lambda: async_to_sync(_membership_send)(recipients, room_id, joined))
