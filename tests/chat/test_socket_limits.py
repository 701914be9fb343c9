"""The WebSocket handler cannot be crashed, always cleans up, and limits sockets and typing per user.

Oversize frames and the socket cap run against real Daphne processes with the `websockets` client (the oversize
bug was in the protocol layer: Daphne's autobahn refuses an application close with 1009); with REDIS_URL set,
two processes share the cache, so the cap is counted across them. Bad input runs through the Channels
communicator on the real ASGI application, on SQLite and on PostgreSQL.
"""

import asyncio
import json
import os

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed

from chat.consumers import CLOSE_TOO_BIG, CLOSE_TOO_MANY_SOCKETS
from chat.models import Message
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.chat.conftest import next_frame, next_output, open_socket
from tests.chat.daphne import DaphneProcess, seed
from tests.chat.factories import group_room
from tests.chat.test_e2e_daphne import database_url, next_of, ticket_for  # noqa: F401  (fixture)
from tests.chat.test_e2e_daphne import open_socket as open_real_socket

pytestmark = [pytest.mark.django_db(transaction=True)]
TWO_PROCESSES = bool(os.environ.get("REDIS_URL"))


@pytest.fixture
def daphnes(database_url):  # noqa: F811
    """Two Daphne processes sharing Redis when REDIS_URL is set, else one (in-process cache and layer)."""
    url, migrate = database_url
    data = seed(url, members=2, outsiders=0, migrate=migrate)
    started = [DaphneProcess(url, DATABASE_POOL="0", CHAT_MAX_SOCKETS_PER_USER="3")]
    if TWO_PROCESSES:
        started.append(DaphneProcess(url, DATABASE_POOL="0", CHAT_MAX_SOCKETS_PER_USER="3"))
    yield started, data
    for server in started:
        server.stop()


async def closed_code(socket) -> int:
    """Read until the server closes the socket; its close code (1006 when it dropped the connection without one)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd is not None else 1006


# --- Oversize frames ----------------------------------------------------------------------------------------
async def oversize_scenario(servers: list[DaphneProcess], data: dict) -> None:
    first, last = servers[0], servers[-1]
    teacher, student = data["members"]
    tokens = data["tokens"]
    async with open_real_socket(last, await ticket_for(last, tokens[str(teacher)])) as watcher:
        # Up to Daphne's own limit (1 MiB) the application closes with 4009; beyond it Daphne's WebSocket layer
        # drops the connection itself (no close frame: 1006 for the client). Either way the cleanup runs.
        for size, code in (
            (64 * 1024 + 1, CLOSE_TOO_BIG),
            (512 * 1024, CLOSE_TOO_BIG),
            (1024 * 1024, CLOSE_TOO_BIG),
            (1024 * 1024 + 1, 1006),
        ):
            async with open_real_socket(first, await ticket_for(first, tokens[str(student)])) as sender:
                online = await next_of(watcher, "presence")
                assert online == {"type": "presence", "user": student, "online": True}
                await sender.send("x" * size)
                assert await closed_code(sender) == code
            # The crash left the student online for a day; now the cleanup ran: offline for the others.
            offline = await next_of(watcher, "presence")
            assert offline == {"type": "presence", "user": student, "online": False}
        # The server is alive, and the student can come back.
        async with open_real_socket(first, await ticket_for(first, tokens[str(student)])) as again:
            await again.send(json.dumps({"type": "ping"}))
            assert await next_of(again, "pong") == {"type": "pong"}


@pytest.mark.slow
def test_an_oversize_frame_closes_with_4009_and_the_user_goes_offline(daphnes):
    asyncio.run(oversize_scenario(*daphnes))


# --- Sockets per user ---------------------------------------------------------------------------------------
async def cap_scenario(servers: list[DaphneProcess], data: dict) -> None:
    _, student = data["members"]
    tokens = data["tokens"]
    # Tickets first, then ten connects at once, spread over the processes: exactly three stay open.
    tickets = [await ticket_for(servers[0], tokens[str(student)]) for _ in range(10)]
    sockets = await asyncio.gather(
        *(open_real_socket(servers[index % len(servers)], ticket) for index, ticket in enumerate(tickets))
    )
    fates = await asyncio.gather(*(fate(socket) for socket in sockets))
    assert sorted(fates) == [f"closed {CLOSE_TOO_MANY_SOCKETS}"] * 7 + ["open"] * 3
    # Closing one frees its slot, for a socket in any process (once its server has handled the close).
    survivors = [socket for socket, result in zip(sockets, fates, strict=True) if result == "open"]
    await survivors[0].close()
    async with asyncio.timeout(20):
        while True:
            socket = await open_real_socket(servers[-1], await ticket_for(servers[-1], tokens[str(student)]))
            if await fate(socket) == "open":
                break
    for each in [*survivors, socket]:
        await each.close()


async def fate(socket) -> str:
    """ "open" when the socket answers a ping, else how it was closed."""
    try:
        await socket.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(10):
            while json.loads(await socket.recv())["type"] != "pong":
                pass
        return "open"
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code}"


@pytest.mark.slow
def test_one_user_holds_at_most_the_configured_number_of_sockets_across_processes(daphnes):
    asyncio.run(cap_scenario(*daphnes))


# --- Bad input ----------------------------------------------------------------------------------------------
@pytest.fixture
def people(db):
    teacher, student = TeacherFactory(), StudentFactory()
    return teacher, student, group_room(teacher, student)


@pytest.mark.anyio
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_nul_and_other_unstorable_input_answer_an_error_frame_and_the_socket_stays_open(people):
    _, student, room = people
    socket = await open_socket(student)
    send = {"type": "message.send", "room": room.pk}
    cases = [
        (
            {**send, "text": "a\x00b", "client_id": "nul-text"},
            "invalid",
            {"text": ["Null characters are not allowed."]},
        ),
        ({**send, "text": "x", "client_id": "a\x00"}, "invalid", {"client_id": ["Null characters are not allowed."]}),
        ({**send, "text": "\ud800", "client_id": "sur-text"}, "invalid", {"text": ["Not valid Unicode text."]}),
        ({**send, "text": "x", "client_id": "\udfff"}, "invalid", {"client_id": ["Not valid Unicode text."]}),
        ({"type": "message.send", "room": 2**63, "text": "x", "client_id": "big"}, "bad_frame", None),
        ({"type": "read", "room": room.pk, "message_id": 2**70}, "bad_frame", None),
        ({"type": "typing", "room": 10**30}, "bad_frame", None),
        ({"type": "dan\x00ce\ud800"}, "unknown_type", None),
    ]
    for frame, code, fields in cases:
        # ensure_ascii: lone surrogates travel as JSON escapes, as a client can send them.
        await socket.send_to(text_data=json.dumps(frame))
        error = await next_frame(socket)
        assert (error["type"], error["code"], error.get("fields")) == ("error", code, fields), frame
        assert error.get("client_id") in (None, "nul-text", "sur-text", "big")
    await socket.send_to(text_data="[" * 20_000 + "]" * 20_000)  # deeper than the JSON parser recurses
    assert (await next_frame(socket))["code"] == "bad_frame"
    await socket.send_to(text_data=json.dumps({**send, "text": "still here", "client_id": "ok"}))
    assert (await next_frame(socket, skip=("presence", "message.new")))["type"] == "ack"
    assert await database_sync_to_async(lambda: list(Message.objects.values_list("text", flat=True)))() == [
        "still here"
    ]
    await socket.disconnect()


# --- Typing per user ----------------------------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_typing_is_limited_per_user_over_all_of_their_sockets(people, settings):
    settings.CHAT_TYPING_INTERVAL_SECONDS = 3600  # no window ends during the test
    teacher, student, room = people
    other_room = await database_sync_to_async(group_room)(teacher, student)
    listener = await open_socket(teacher)
    tabs = [await open_socket(student) for _ in range(3)]
    for tab in tabs:
        await tab.send_json_to({"type": "typing", "room": room.pk})
    # A later typing in another room is relayed: when it arrives, every earlier one would have.
    await tabs[0].send_json_to({"type": "typing", "room": other_room.pk})
    assert await next_frame(listener) == {"type": "typing", "room": room.pk, "user": student.pk}
    assert await next_frame(listener) == {"type": "typing", "room": other_room.pk, "user": student.pk}
    for socket in (*tabs, listener):
        await socket.disconnect()


@pytest.mark.anyio
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_socket_over_the_cap_is_refused_with_4429_and_a_closed_one_frees_its_slot(people, settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 2
    _, student, _ = people
    first, second = await open_socket(student), await open_socket(student)
    refused = await open_socket(student)
    assert await next_output(refused) == {"type": "websocket.close", "code": CLOSE_TOO_MANY_SOCKETS}
    await first.disconnect()
    third = await open_socket(student)
    await third.send_json_to({"type": "ping"})
    assert await next_frame(third) == {"type": "pong"}
    await second.disconnect()
    await third.disconnect()
