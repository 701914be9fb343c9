"""Sockets of revoked sessions and deactivated users close (4401) within a minute (chat/revocation.py)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from accounts import tokens
from chat import revocation
from tests.accounts.factories import UserFactory
from tests.chat.conftest import HEADERS, application, next_frame, next_output

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


def _login_ticket(user) -> tuple[str, str]:
    """A real session (knox token) and a ticket issued through the API with it: (token, ticket)."""
    token, _ = tokens.token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post("/api/chat/ws-ticket/")
    assert response.status_code == 200
    return token, response.json()["ticket"]


async def _socket_for(user) -> tuple[WebsocketCommunicator, str]:
    token, ticket = await database_sync_to_async(_login_ticket)(user)
    socket = WebsocketCommunicator(application(), f"/ws/chat/?ticket={ticket}", headers=HEADERS)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    return socket, token


def _revoke(token: str) -> None:
    from knox.auth import TokenAuthentication

    _, auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    tokens.revoke(auth_token)


async def _still_open(socket) -> bool:
    await socket.send_json_to({"type": "ping"})
    return (await next_frame(socket)) == {"type": "pong"}


async def test_revoking_a_session_closes_its_sockets_and_only_those():
    user = await database_sync_to_async(UserFactory)(role="student")
    revoked, revoked_token = await _socket_for(user)
    kept, _ = await _socket_for(user)

    await database_sync_to_async(_revoke)(revoked_token)
    assert await revocation.close_revoked() >= 1  # (sockets other tests left open may be counted too)

    assert await next_output(revoked) == {"type": "websocket.close", "code": 4401}
    assert await _still_open(kept)
    await revocation.close_revoked()
    assert await _still_open(kept)
    await kept.disconnect()


async def test_deactivating_a_user_closes_every_socket_of_theirs():
    user = await database_sync_to_async(UserFactory)(role="teacher")
    other = await database_sync_to_async(UserFactory)(role="student")
    first, _ = await _socket_for(user)
    second, _ = await _socket_for(user)
    bystander, _ = await _socket_for(other)

    user.is_active = False
    await database_sync_to_async(user.save)(update_fields=["is_active"])
    assert await revocation.close_revoked() >= 2

    for socket in (first, second):
        assert await next_output(socket) == {"type": "websocket.close", "code": 4401}
    assert await _still_open(bystander)
    await bystander.disconnect()


async def test_the_periodic_check_closes_without_being_called(settings):
    settings.CHAT_SESSION_CHECK_SECONDS = 0.2
    user = await database_sync_to_async(UserFactory)(role="student")
    socket, token = await _socket_for(user)
    await database_sync_to_async(_revoke)(token)
    assert await next_output(socket, timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_a_ticket_of_a_session_revoked_before_connecting_is_refused():
    user = await database_sync_to_async(UserFactory)(role="student")
    token, ticket = await database_sync_to_async(_login_ticket)(user)
    await database_sync_to_async(_revoke)(token)
    socket = WebsocketCommunicator(application(), f"/ws/chat/?ticket={ticket}", headers=HEADERS)
    await socket.connect(timeout=5)
    assert await next_output(socket) == {"type": "websocket.close", "code": 4401}
    await socket.disconnect()
