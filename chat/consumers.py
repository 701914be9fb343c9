"""The chat WebSocket: one socket per client carries all of the user's rooms.

Transport only: authenticate with a single-use ticket, parse frames, call the same services as the REST views,
forward events. Each socket joins its user's group and the group of each of the user's rooms (broadcast.py says
why); events arrive as ready JSON text and go out as they are.
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from chat import layer, presence, revocation, selectors, services
from chat.broadcast import TYPING_TYPE, deliver_to_room, deliver_to_users, event_text, room_group, user_group
from chat.errors import ChatErrorCode
from chat.models import CLIENT_ID_MAX_LENGTH, MESSAGE_MAX_LENGTH
from chat.services.payloads import ack_text
from chat.throttling import send_allowed, typing_allowed
from chat.tickets import ticket_consume
from config.exceptions import ApiError, ErrorCode
from config.metrics import WEBSOCKETS_OPEN
from config.parsing import BIGINT_MAX

logger = logging.getLogger("thebot.chat")

# After a Redis outage, in every process that serves sockets: leases back first (Redis may have lost them), then
# every socket resyncs.
layer.on_restored(presence.renew_now)
layer.on_restored(revocation.resync_all)

CLOSE_UNAUTHORIZED = 4401
# A frame over the size cap. Not 1009: Daphne's WebSocket layer (autobahn) accepts from the application only
# 1000 and 3000-4999 and raises on anything else, which crashed the consumer before its cleanup ran (over its
# own limit, 1 MiB, that layer drops the connection itself). Application codes are 4xxx.
CLOSE_TOO_BIG = 4009
# One socket more than `CHAT_MAX_SOCKETS_PER_USER`: the new socket is refused (the ones open stay).
CLOSE_TOO_MANY_SOCKETS = 4429
# The largest message (10 000 characters of up to 4 bytes, JSON-escaped) fits; anything bigger is abuse.
MAX_FRAME_BYTES = 64 * 1024


def store_in_pool(function):
    """Run a store in the thread pool rather than in Channels' single thread for database work: sends of
    different sockets then overlap their database round trips (the room lock keeps each room's order, and a
    socket's frames are handled one at a time, so one sender's order is kept too)."""
    return DatabaseSyncToAsync(function, thread_sensitive=False)


class FrameError(Exception):
    def __init__(self, code: str, detail: str, fields: dict | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.fields = fields


def _int_field(frame: dict, name: str) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= BIGINT_MAX:
        raise FrameError(ChatErrorCode.BAD_FRAME, f"`{name}` must be a positive integer (at most 2**63 - 1).")
    return value


def _text_problem(value: str) -> str | None:
    """What makes a string unstorable, as REST words it: NUL (PostgreSQL refuses it in text) or a lone
    surrogate (a `\\ud800` escape in the JSON, which no database and no UTF-8 socket can carry)."""
    if "\x00" in value:
        return "Null characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Not valid Unicode text."
    return None


def _str_field(frame: dict, name: str, max_length: int) -> str:
    value = frame.get(name)
    if not isinstance(value, str):
        raise FrameError(ChatErrorCode.BAD_FRAME, f"`{name}` must be a string.")
    if len(value) > max_length:
        code = ChatErrorCode.TEXT_TOO_LONG if name == "text" else ChatErrorCode.BAD_FRAME
        raise FrameError(code, f"`{name}` has at most {max_length} characters.")
    problem = _text_problem(value)
    if problem is not None:
        raise FrameError(ErrorCode.INVALID, "Invalid input.", {name: [problem]})
    return value


def _echoable_client_id(client_id) -> str | None:
    """A frame's `client_id` as the error frame may repeat it: only a valid one (a NUL, a surrogate or an
    oversize value is not sent back)."""
    if isinstance(client_id, str) and 0 < len(client_id) <= CLIENT_ID_MAX_LENGTH and _text_problem(client_id) is None:
        return client_id
    return None


class ChatConsumer(AsyncWebsocketConsumer):
    user_id: int | None = None  # set once the socket holds a presence lease: cleanup is then due
    socket_id = ""  # its lease's id (chat/presence.py)
    room_ids: set[int] = set()
    _cleaned_up = False

    async def __call__(self, scope, receive, send):
        """Whatever ends the consumer (a disconnect, an exception, a cancellation by the server), the socket's
        presence lease is given back and its groups are left."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._cleanup()

    async def connect(self):
        self.room_ids = set()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        opened = await database_sync_to_async(self._open)(ticket)
        if opened is None or opened == CLOSE_TOO_MANY_SOCKETS:
            # Accept only to be able to send the close code: nothing is subscribed or served.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED if opened is None else CLOSE_TOO_MANY_SOCKETS)
            return
        self.user, self.socket_id, came_online, co_members, online, room_ids, token_digest = opened
        self.user_id = self.user.pk
        WEBSOCKETS_OPEN.inc()  # given back in _cleanup, which runs once for every socket with a user_id
        self.room_ids = set(room_ids)
        revocation.register(self, self.user_id, token_digest)
        presence.keep_alive()
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
        user = revocation.session_user(user_id, token_digest)  # None also when the session was revoked meanwhile
        if user is None:
            return None
        socket_id = presence.new_socket_id()
        admitted, came_online = presence.presence_connect(user.pk, socket_id)
        if not admitted:  # the cap counts live leases: nothing was taken, nothing to give back
            return CLOSE_TOO_MANY_SOCKETS
        try:
            co_members = selectors.co_member_ids(user.pk)
            online = presence.online_among(co_members) if co_members else set()
            return user, socket_id, came_online, co_members, online, selectors.room_ids_of(user.pk), token_digest
        except BaseException:
            presence.presence_disconnect(user.pk, socket_id)
            raise

    async def disconnect(self, code):
        await self._cleanup()

    async def _cleanup(self) -> None:
        """Run once per socket holding a lease: forget the session, leave every group, give the lease back (each
        step even when the one before failed), then tell the others if the user went offline."""
        if self.user_id is None or self._cleaned_up:
            return
        self._cleaned_up = True
        WEBSOCKETS_OPEN.dec()
        try:
            revocation.unregister(self)
            groups = [user_group(self.user_id), *(room_group(pk) for pk in self.room_ids)]
            results = await asyncio.gather(
                *(self.channel_layer.group_discard(group, self.channel_name) for group in groups),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, Exception):
                    logger.warning("chat: leaving a group failed", exc_info=result)
        finally:
            went_offline, co_members = await database_sync_to_async(self._close)()
            if went_offline and co_members:
                await deliver_to_users(co_members, event_text("presence", user=self.user_id, online=False))

    def _close(self):
        went_offline = presence.presence_disconnect(self.user_id, self.socket_id)
        return went_offline, selectors.co_member_ids(self.user_id) if went_offline else []

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
        """Every event is forwarded as the JSON text its producer serialized once. A room event for a room this
        socket has left (its membership event came first, the room's event was already queued) is dropped."""
        room_id = event.get("room")
        if room_id is None or room_id in self.room_ids:
            await self.send(text_data=event["text"])

    async def chat_typing(self, event):
        if event["user"] != self.user_id and event.get("room") in self.room_ids:
            await self.send(text_data=event["text"])

    async def rooms_follow(self, room_ids: set[int]) -> None:
        """Join the groups of rooms the user is now in, leave the others (after a resync: membership events may
        have been lost)."""
        joined, left = room_ids - self.room_ids, self.room_ids - room_ids
        self.room_ids = set(room_ids)
        await asyncio.gather(*(self.channel_layer.group_add(room_group(pk), self.channel_name) for pk in joined))
        await asyncio.gather(*(self.channel_layer.group_discard(room_group(pk), self.channel_name) for pk in left))

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
        """No frame ends the socket but an oversize one: bad input answers an `error` frame, and an unexpected
        failure is logged and answered `server_error` (like REST's 500), the socket staying open."""
        try:
            await self._receive(text_data, bytes_data)
        except Exception:
            logger.exception("chat: a frame failed", extra={"fields": {"user_id": self.user_id}})
            await self._error(ErrorCode.SERVER_ERROR, "Internal server error.")

    async def _receive(self, text_data, bytes_data) -> None:
        if bytes_data is not None and text_data is None:
            await self._error(ChatErrorCode.BAD_FRAME, "Frames are JSON text.")
            return
        if len(text_data) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            await self._error(ChatErrorCode.BAD_FRAME, "Frames are JSON objects.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error(ChatErrorCode.BAD_FRAME, "A frame is a JSON object with a `type`.")
            return
        handler = self.FRAME_HANDLERS.get(frame["type"])
        if handler is None:
            # Quoted ASCII-escaped: the type may hold anything (a NUL, a lone surrogate).
            await self._error(ChatErrorCode.UNKNOWN_TYPE, f"Unknown frame type {json.dumps(frame['type'][:50])}.")
            return
        try:
            await handler(self, frame)
        except FrameError as error:
            await self._error(error.code, error.detail, frame.get("client_id"), error.fields)

    async def _error(self, code: str, detail: str, client_id=None, fields: dict | None = None) -> None:
        body = {"code": str(code), "detail": detail}
        if fields:
            body["fields"] = fields
        client_id = _echoable_client_id(client_id)
        if client_id is not None:
            body["client_id"] = client_id
        await self.send(text_data=event_text("error", **body))

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
        relay = await store_in_pool(self._typing)(room_id)
        if relay:
            text = event_text("typing", room=room_id, user=self.user_id)
            await deliver_to_room(room_id, text, layer_type=TYPING_TYPE, user=self.user_id)

    def _typing(self, room_id: int) -> bool:
        """Whether to relay: only writers type; one `typing` per user and room in each interval, counted over
        all of the user's sockets in every process (more are dropped silently: typing is a hint)."""
        if selectors.membership(self.user_id, room_id) is not False:  # None: not a member; True: read-only
            raise FrameError(ChatErrorCode.NOT_FOUND, "Room not found.")
        return typing_allowed(self.user_id, room_id)

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
