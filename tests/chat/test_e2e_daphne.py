"""End to end against real Daphne processes with the `websockets` client.

With REDIS_URL set: two Daphne processes share the Redis channel layer and cache; a message sent over REST to
process A reaches sockets on process B. Without it: one Daphne with the in-memory layer.
"""

import asyncio
import json
import os

import httpx
import pytest
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.chat.daphne import DaphneProcess, seed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_url(tmp_path, transactional_db):
    """The servers use the test database itself on PostgreSQL (flushed after the test by `transactional_db`);
    on SQLite, whose test database lives in memory, a file of their own."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user, host, port = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}", False
    return f"sqlite:///{tmp_path / 'e2e.sqlite3'}", True


@pytest.fixture
def servers(request, database_url):
    url, migrate = database_url
    data = seed(url, members=3, outsiders=1, migrate=migrate)
    # No pool on PostgreSQL here: the test database is dropped at the end, which open pooled connections prevent.
    started = [DaphneProcess(url, DATABASE_POOL="0") for _ in range(request.param)]
    yield started, data
    for server in started:
        server.stop()


async def ticket_for(server: DaphneProcess, token: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": f"Token {token}"}) as client:
        response = await client.post("/api/chat/ws-ticket/")
        assert response.status_code == 200
        return response.json()["ticket"]


def open_socket(server: DaphneProcess, ticket: str):
    return connect(f"{server.ws_url}?ticket={ticket}", origin=f"http://127.0.0.1:{server.port}", compression=None)


async def next_of(socket, frame_type: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == frame_type:
                return frame


async def nothing_of(socket, frame_type: str, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            while True:
                assert json.loads(await socket.recv())["type"] != frame_type
    except TimeoutError:
        pass


async def scenario(servers: list[DaphneProcess], data: dict) -> None:
    first, last = servers[0], servers[-1]
    teacher, sender, receiver = data["members"]
    outsider = data["outsiders"][0]
    tokens, room = data["tokens"], data["room"]

    # A ticket from one process opens a socket on the other (the cache is shared), once.
    receiver_ticket = await ticket_for(first, tokens[str(receiver)])
    async with (
        open_socket(last, receiver_ticket) as receiver_socket,
        open_socket(first, await ticket_for(first, tokens[str(sender)])) as sender_socket,
        open_socket(last, await ticket_for(last, tokens[str(teacher)])) as teacher_socket,
        open_socket(first, await ticket_for(last, tokens[str(outsider)])) as outsider_socket,
    ):
        async with open_socket(first, receiver_ticket) as reused:
            with pytest.raises(ConnectionClosed) as closed:
                await reused.recv()
            assert closed.value.rcvd.code == 4401

        # REST on process A reaches sockets on process B (and on A), and nobody else.
        async with httpx.AsyncClient(base_url=first.base_url) as client:
            response = await client.post(
                f"/api/chat/rooms/{room}/messages/",
                json={"text": "across processes", "client_id": "e2e-1"},
                headers={"Authorization": f"Token {tokens[str(sender)]}"},
            )
        assert response.status_code == 201
        stored = response.json()
        for socket in (receiver_socket, teacher_socket, sender_socket):
            assert (await next_of(socket, "message.new"))["message"] == stored

        # A WebSocket send on A: ack to the sender, the message to B.
        await sender_socket.send(
            json.dumps({"type": "message.send", "room": room, "text": "live", "client_id": "e2e-2"})
        )
        ack = await next_of(sender_socket, "ack")
        assert ack["client_id"] == "e2e-2"
        assert (await next_of(receiver_socket, "message.new"))["message"] == ack["message"]
        assert (await next_of(teacher_socket, "message.new"))["message"] == ack["message"]
        await nothing_of(outsider_socket, "message.new", 0.5)

        # The history agrees with what was delivered.
        async with httpx.AsyncClient(base_url=last.base_url) as client:
            history = await client.get(
                f"/api/chat/rooms/{room}/messages/", headers={"Authorization": f"Token {tokens[str(receiver)]}"}
            )
        assert [message["id"] for message in history.json()["results"]] == [stored["id"], ack["message"]["id"]]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="two processes share the Redis channel layer")
@pytest.mark.parametrize("servers", [2], indirect=True, ids=["two-processes-redis"])
def test_message_crosses_processes_through_redis(servers):
    asyncio.run(scenario(*servers))


@pytest.mark.parametrize("servers", [1], indirect=True, ids=["one-process"])
def test_message_delivery_through_one_daphne(servers):
    asyncio.run(scenario(*servers))
