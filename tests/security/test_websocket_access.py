"""The WebSocket routes (config.routing) under the same proof as the REST operations: every route refuses the five
kinds of bad credentials (no ticket, a malformed ticket, the ticket of a revoked session, of an expired session, of a
deactivated user) by closing with 4401 before serving anything, and a member of family A can neither join, read
nor write family B's rooms over the socket: a foreign room is answered exactly like a missing one, and nothing of
family B's rooms reaches family A's sockets. The route inventory itself is in
tests/config/test_anonymous_allow_list.py (no WebSocket route is anonymous)."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from chat.models import Message
from chat.services import message_post
from tests.chat.conftest import HEADERS, RECEIVE_TIMEOUT, application, next_frame, next_output
from tests.config.test_anonymous_allow_list import websocket_routes
from tests.security.world import MARKER, MISSING, build_world

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]
CASES = ["no ticket", "malformed", "revoked", "expired", "deactivated"]


def _session_ticket(user) -> tuple[str, str]:
    """A real session (token) and a ticket issued for it through the API."""
    token = AuthToken.objects.create(user=user)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/chat/ws-ticket/")
    assert response.status_code == 200, response.content
    return token, response.json()["ticket"]


def _prepare(case: str, world) -> tuple[str, object]:
    """The query string to connect with, and a time travel to start first (or None)."""
    user = world.a.student
    if case == "no ticket":
        return "", None
    if case == "malformed":
        return "?ticket=" + "x" * 101, None
    token, ticket = _session_ticket(user)
    if case == "revoked":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.post("/api/auth/logout/").status_code == 204
        return f"?ticket={ticket}", None
    if case == "expired":
        # The session's token expires while the ticket is still fresh (the ticket lives 60 s): the socket asks the
        # session, not only the ticket.
        AuthToken.objects.filter(user=user).update(expiry=timezone.now() + timedelta(seconds=5))
        return f"?ticket={ticket}", time_machine.travel(timezone.now() + timedelta(seconds=10))
    user.is_active = False
    user.save(update_fields=["is_active"])
    return f"?ticket={ticket}", None


@pytest.mark.parametrize("route", websocket_routes())
@pytest.mark.parametrize("case", CASES)
async def test_every_websocket_route_refuses_bad_credentials_with_4401(route, case):
    world = await database_sync_to_async(build_world)()
    query, travel = await database_sync_to_async(_prepare)(case, world)
    if travel is not None:
        travel.start()
    try:
        socket = WebsocketCommunicator(application(), f"/{route}{query}", headers=HEADERS)
        await socket.connect(timeout=RECEIVE_TIMEOUT)
        assert await next_output(socket) == {"type": "websocket.close", "code": 4401}
        await socket.disconnect()
    finally:
        if travel is not None:
            travel.stop()


async def _open(user) -> WebsocketCommunicator:
    _, ticket = await database_sync_to_async(_session_ticket)(user)
    socket = WebsocketCommunicator(application(), f"/ws/chat/?ticket={ticket}", headers=HEADERS)
    connected, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    return socket


def _without_client_id(frame: dict) -> dict:
    return {key: value for key, value in frame.items() if key != "client_id"}


async def test_family_a_cannot_join_read_or_write_family_b_rooms_over_the_socket():
    world = await database_sync_to_async(build_world)()
    foreign_room = world.b.room.pk
    count_before = await database_sync_to_async(Message.objects.filter(room=world.b.room).count)()
    for role, user in world.a.users.items():
        socket = await _open(user)
        answers = {}
        for room in (foreign_room, MISSING):
            await socket.send_json_to({"type": "message.send", "room": room, "text": "hi", "client_id": f"{room}"})
            send = await next_frame(socket)
            await socket.send_json_to({"type": "typing", "room": room})
            typing = await next_frame(socket)
            await socket.send_json_to({"type": "read", "room": room, "message_id": world.b.message.pk})
            read = await next_frame(socket)
            answers[room] = [_without_client_id(send), typing, read]
        assert answers[foreign_room] == answers[MISSING], role
        assert answers[MISSING][0]["type"] == "error" and answers[MISSING][0]["code"] == "not_found", role

        # Family B talks in its room: nothing of it reaches family A's socket.
        await database_sync_to_async(message_post)(
            sender=world.b.teacher, room_id=foreign_room, text=f"{MARKER} secret", client_id=f"b-{role}"
        )
        # Then family A's room gets a message: once it is here, B's (published before it) would have been too.
        sentinel = f"sentinel for {role}"
        await database_sync_to_async(message_post)(
            sender=world.a.teacher, room_id=world.a.room.pk, text=sentinel, client_id=f"a-{role}"
        )
        received = []
        while sentinel not in str(received[-1:]):
            received.append(await next_frame(socket, skip=()))
        assert MARKER not in str(received), (role, received)
        await socket.disconnect()
    count_after = await database_sync_to_async(Message.objects.filter(room=world.b.room).count)()
    assert count_after == count_before + len(world.a.users)  # only family B's own messages
