"""The chat WebSocket: one socket per client carries all of the user's rooms.

Transport only: authenticate with a single-use ticket, parse frames, call the same services as the REST views,
forward events. Each socket joins its user's group and the group of each of the user's rooms (events.py says
why); events arrive as ready JSON text and go out as they are.
"""

import asyncio
import json
import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import presence, selectors, services, sessions
from chat.errors import ChatErrorCode
from chat.events import TYPING_TYPE, ack_text, deliver_to_room, deliver_to_users, event_text, room_group, user_group
from chat.models import CLIENT_ID_MAX_LENGTH, MESSAGE_MAX_LENGTH, Participant
from chat.throttling import send_allowed
from chat.tickets import ticket_consume
from config.exceptions import ApiError
from config.parsing import BIGINT_MAX

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_BIG = 1009
# The largest message (10 000 characters of up to 4 bytes, JSON-escaped) fits; anything bigger is abuse.
MAX_FRAME_BYTES = 64 * 1024
TYPING_INTERVAL_SECONDS = 2.0


def store_in_pool(function):
    """Run a store in the thread pool rather than in Channels' single thread for database work: sends of
    different sockets then overlap their database round trips (the room lock keeps each room's order, and a
    socket's frames are handled one at a time, so one sender's order is kept too)."""
    return DatabaseSyncToAsync(function, thread_sensitive=False)


class FrameError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _int_field(frame: dict, name: str) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= BIGINT_MAX:
        raise FrameError(ChatErrorCode.BAD_FRAME, f"`{name}` must be a positive integer.")
    return value


def _str_field(frame: dict, name: str, max_length: int) -> str:
    value = frame.get(name)
    if not isinstance(value, str):
        raise FrameError(ChatErrorCode.BAD_FRAME, f"`{name}` must be a string.")
    if len(value) > max_length:
        code = ChatErrorCode.TEXT_TOO_LONG if name == "text" else ChatErrorCode.BAD_FRAME
        raise FrameError(code, f"`{name}` has at most {max_length} characters.")
    if "\x00" in value:  # PostgreSQL cannot store it; the REST API refuses it too
        raise FrameError(ChatErrorCode.BAD_FRAME, f"`{name}` must not contain NUL characters.")
    return value


class ChatConsumer(AsyncWebsocketConsumer):
    user_id: int | None = None

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        opened = await database_sync_to_async(self._open)(ticket)
        if opened is None:
            # Accept only to be able to send the close code: nothing is subscribed or served.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user, came_online, co_members, online, room_ids, token_digest = opened
        self.user_id = self.user.pk
        sessions.register(self, self.user_id, token_digest)
        self.room_ids = set(room_ids)
        self.typing_sent: dict[int, float] = {}
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        await asyncio.gather(*(self.channel_layer.group_add(room_group(pk), self.channel_name) for pk in room_ids))
        await self.accept()
        for other_id in online:
            await self.send(text_data=event_text("presence", user=other_id, online=True))
        if came_online and co_members:
            await deliver_to_users(co_members, event_text("presence", user=self.user_id, online=True))

    def _open(self, ticket: str):
        issued = ticket_consume(ticket)
        if issued is None:
            return None
        user_id, token_digest = issued
        user = sessions.session_user(user_id, token_digest)  # None also when the session was revoked meanwhile
        if user is None:
            return None
        came_online = presence.presence_connect(user.pk)
        co_members = selectors.co_member_ids(user.pk)
        online = presence.online_among(co_members) if co_members else set()
        return user, came_online, co_members, online, selectors.room_ids_of(user.pk), token_digest

    async def disconnect(self, code):
        if self.user_id is None:
            return
        sessions.unregister(self)
        groups = [user_group(self.user_id), *(room_group(pk) for pk in self.room_ids)]
        await asyncio.gather(*(self.channel_layer.group_discard(group, self.channel_name) for group in groups))
        went_offline, co_members = await database_sync_to_async(self._close)()
        if went_offline and co_members:
            await deliver_to_users(co_members, event_text("presence", user=self.user_id, online=False))

    def _close(self):
        return presence.presence_disconnect(self.user_id), selectors.co_member_ids(self.user_id)

    async def dispatch(self, message):
        """Channels' dispatch closes stale database connections (a hop to the database thread) before every
        handler, which made that hop the largest cost of a delivery. Here only the handlers that use the database
        do, through `database_sync_to_async`, which closes them itself; relaying an event touches no database."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Events from the channel layer ------------------------------------------------------------------------
    async def chat_event(self, event):
        """Every event is forwarded as the JSON text its producer serialized once."""
        await self.send(text_data=event["text"])

    async def chat_typing(self, event):
        if event["user"] != self.user_id:
            await self.send(text_data=event["text"])

    async def chat_membership(self, event):
        """The user joined or left a room: follow its group."""
        room_id = event["room"]
        if event["joined"]:
            self.room_ids.add(room_id)
            await self.channel_layer.group_add(room_group(room_id), self.channel_name)
        else:
            self.room_ids.discard(room_id)
            await self.channel_layer.group_discard(room_group(room_id), self.channel_name)

    # --- Frames from the client -------------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None and text_data is None:
            await self._error(ChatErrorCode.BAD_FRAME, "Frames are JSON text.")
            return
        if len(text_data) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._error(ChatErrorCode.BAD_FRAME, "Frames are JSON objects.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error(ChatErrorCode.BAD_FRAME, "A frame is a JSON object with a `type`.")
            return
        handler = self.FRAME_HANDLERS.get(frame["type"])
        if handler is None:
            await self._error(ChatErrorCode.UNKNOWN_TYPE, f"Unknown frame type `{frame['type'][:50]}`.")
            return
        try:
            await handler(self, frame)
        except FrameError as error:
            await self._error(error.code, error.detail, frame.get("client_id"))

    async def _error(self, code: str, detail: str, client_id=None) -> None:
        fields = {"code": str(code), "detail": detail}
        if isinstance(client_id, str):
            fields["client_id"] = client_id[:CLIENT_ID_MAX_LENGTH]
        await self.send(text_data=event_text("error", **fields))

    async def _on_ping(self, frame: dict) -> None:
        await self.send(text_data='{"type":"pong"}')

    async def _on_message_send(self, frame: dict) -> None:
        room_id = _int_field(frame, "room")
        text = _str_field(frame, "text", MESSAGE_MAX_LENGTH)
        client_id = _str_field(frame, "client_id", CLIENT_ID_MAX_LENGTH)
        if not client_id:
            raise FrameError(ChatErrorCode.BAD_FRAME, "`client_id` is required.")
        await self.send(text_data=await store_in_pool(self._message_send)(room_id, text, client_id))

    def _message_send(self, room_id: int, text: str, client_id: str) -> str:
        if not send_allowed(self.user_id):
            return event_text("error", code=ChatErrorCode.THROTTLED, detail="Too many messages.", client_id=client_id)
        try:
            message, _ = services.message_post(sender=self.user, room_id=room_id, text=text, client_id=client_id)
        except ApiError as error:
            return event_text("error", code=error.code, detail=error.detail, client_id=client_id)
        return ack_text(client_id, message)

    async def _on_typing(self, frame: dict) -> None:
        room_id = _int_field(frame, "room")
        now = time.monotonic()
        if now - self.typing_sent.get(room_id, -TYPING_INTERVAL_SECONDS) < TYPING_INTERVAL_SECONDS:
            return  # rate-limited: dropped silently, typing is a hint
        if not await database_sync_to_async(self._may_write)(room_id):
            raise FrameError(ChatErrorCode.ROOM_NOT_FOUND, "Room not found.")
        self.typing_sent[room_id] = now
        text = event_text("typing", room=room_id, user=self.user_id)
        await deliver_to_room(room_id, text, layer_type=TYPING_TYPE, user=self.user_id)

    def _may_write(self, room_id: int) -> bool:
        return Participant.objects.filter(room_id=room_id, user_id=self.user_id, read_only=False).exists()

    async def _on_read(self, frame: dict) -> None:
        room_id = _int_field(frame, "room")
        message_id = _int_field(frame, "message_id")
        error = await database_sync_to_async(self._read)(room_id, message_id)
        if error is not None:
            raise error

    def _read(self, room_id: int, message_id: int) -> FrameError | None:
        try:
            services.read_marker_move(user=self.user, room_id=room_id, message_id=message_id)
        except ApiError as error:
            return FrameError(error.code, error.detail)
        return None

    FRAME_HANDLERS = {
        "ping": _on_ping,
        "message.send": _on_message_send,
        "typing": _on_typing,
        "read": _on_read,
    }
