"""The one marshaller of a message: the JSON payload the REST API answers and the live events carry.

A plain function (no serializer): `chat.serializers.MessageSerializer` renders with it, and the broadcast's events
are built from it, so a message reads the same over REST and over the socket. It expects the sender loaded with the
message (`select_related("sender")`, or the user who just sent it), and costs no query."""

import json
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from accounts.models import person_name
from chat.models import Message


def _datetime(value: datetime | None) -> str | None:
    """ISO 8601 in the current time zone, UTC written `Z` (as the REST framework writes dates)."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return f"{text[:-6]}Z" if text.endswith("+00:00") else text


def message_payload(message: Message) -> dict:
    """The message as the API and the live events show it (`sender` null for a system message)."""
    sender = message.sender if message.sender_id is not None else None
    return {
        "id": message.pk,
        "room": message.room_id,
        "sender": None if sender is None else {"id": sender.pk, "name": person_name(sender), "role": sender.role},
        "text": message.text,
        "client_id": message.client_id,
        "reply_to": message.reply_to_id,
        "attachment_url": reverse("chat:message-attachment", kwargs={"pk": message.pk}) if message.attachment else None,
        "attachment_name": message.attachment_name,
        "created_at": _datetime(message.created_at),
        "edited_at": _datetime(message.edited_at),
        "deleted": message.is_deleted,
    }


def message_json(message: Message) -> str:
    """The message as JSON, built once per stored state: a send's broadcast and its ack share it."""
    cached = getattr(message, "_event_json", None)
    if cached is None or cached[0] != (message.text, message.edited_at, message.deleted_at):
        data = json.dumps(message_payload(message), separators=(",", ":"), ensure_ascii=False)
        cached = ((message.text, message.edited_at, message.deleted_at), data)
        message._event_json = cached
    return cached[1]


def message_event_text(event_type: str, message: Message) -> str:
    return f'{{"type":"{event_type}","message":{message_json(message)}}}'


def ack_text(client_id: str, message: Message) -> str:
    client_id_json = json.dumps(client_id, ensure_ascii=False)
    return f'{{"type":"ack","client_id":{client_id_json},"message":{message_json(message)}}}'
