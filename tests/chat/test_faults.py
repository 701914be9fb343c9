"""Chat through faults, with real processes: a private `redis-server` (killed with SIGKILL and restarted), two real
Daphne processes sharing it, real HTTP clients and real WebSocket clients.

- Redis killed while clients send over REST: every send answers 201 and is stored; once Redis is back every
  socket gets a `resync` frame and, following docs/websocket.md "Reconnect and resync" (`?after=`), ends with
  every message exactly once, in order.
- A Daphne process killed with SIGKILL while a user has sockets on it: within the lease time (short here) the
  user shows offline to the others and can open sockets up to the cap again.

Both run in the SQLite and the PostgreSQL runs: the private Redis is theirs whatever REDIS_URL says.
"""

import asyncio
import json
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chat.consumers import CLOSE_TOO_MANY_SOCKETS
from tests.chat.daphne import DaphneProcess, seed
from tests.chat.redis_server import REDIS_SERVER, RedisServer
from tests.chat.test_e2e_daphne import database_url, next_of, ticket_for  # noqa: F401  (fixture)
from tests.chat.test_e2e_daphne import open_socket as open_real_socket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary"),
]
WAIT = 60  # seconds a condition may take before the test fails (never a pause: conditions are polled)


@pytest.fixture
def private_redis():
    server = RedisServer()
    yield server
    server.stop()


def server_settings(redis_server: RedisServer, **extra: str) -> dict:
    prefix = f"fault-{uuid.uuid4().hex[:8]}"
    return {"DATABASE_POOL": "0", "REDIS_URL": redis_server.url, "CACHE_KEY_PREFIX": prefix, **extra}


@pytest.fixture
def cluster(database_url, private_redis):  # noqa: F811
    url, migrate = database_url
    data = seed(url, members=3, outsiders=0, migrate=migrate)
    env = server_settings(private_redis, CHAT_SEND_PER_SECOND="1000")
    started = [DaphneProcess(url, **env) for _ in range(2)]
    yield started, data, private_redis
    for server in started:
        server.stop()


async def until(condition, what) -> None:
    """Wait for `condition()`, polled; fail after WAIT seconds, saying `what` (a string, or a function of nothing)."""
    try:
        async with asyncio.timeout(WAIT):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not within {WAIT} s: {what() if callable(what) else what}")


# --- Redis killed while clients send ---------------------------------------------------------------------------
class Reader:
    """A chat client on one socket: keeps every message it learns by id (live, fetched or its own ack), and on
    `resync` fetches what it may have missed with `?after=<the highest id it has from the stream>`: from
    `message.new` frames and history pages, not from its own acks, which come outside the stream (the documented
    recipe)."""

    def __init__(self, socket, server: DaphneProcess, token: str, room: int):
        self.socket, self.server, self.token, self.room = socket, server, token, room
        self.messages: dict[int, dict] = {}
        self.resyncs = 0
        self.duplicates = 0
        self.acks: list[dict] = []
        self.upto = 0  # the highest id received in `message.new` or a history page

    def keep(self, message: dict) -> None:
        if message["id"] in self.messages:
            self.duplicates += 1  # a live copy of a fetched message (or the reverse): dropped
        else:
            self.messages[message["id"]] = message

    async def run(self) -> None:
        try:
            while True:
                frame = json.loads(await self.socket.recv())
                if frame["type"] == "message.new":
                    self.keep(frame["message"])
                    self.upto = max(self.upto, frame["message"]["id"])
                elif frame["type"] == "ack":
                    self.acks.append(frame)
                    self.keep(frame["message"])
                elif frame["type"] == "resync":
                    await self.fetch_after(self.upto)
                    self.resyncs += 1
        except ConnectionClosed:
            return

    async def fetch_after(self, after: int) -> None:
        headers = {"Authorization": f"Token {self.token}"}
        async with httpx.AsyncClient(base_url=self.server.base_url, headers=headers, timeout=30) as client:
            while True:
                response = await client.get(f"/api/chat/rooms/{self.room}/messages/?after={after}&limit=100")
                assert response.status_code == 200, response.text
                page = response.json()
                for message in page["results"]:
                    self.keep(message)
                    self.upto = max(self.upto, message["id"])
                if not page["has_more"]:
                    return
                after = page["results"][-1]["id"]


async def send_numbered(server: DaphneProcess, token: str, room: int, name: str, numbers: range) -> list[int]:
    """Send `name-<n>` for each number, one after the other (a numbered sender); the statuses."""
    headers = {"Authorization": f"Token {token}"}
    statuses = []
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
        for number in numbers:
            text = f"{name}-{number}"
            response = await client.post(f"/api/chat/rooms/{room}/messages/", json={"text": text, "client_id": text})
            statuses.append(response.status_code)
    return statuses


async def redis_outage_scenario(servers: list[DaphneProcess], data: dict, redis_server: RedisServer) -> None:
    room, tokens, members = data["room"], data["tokens"], data["members"]
    sockets = [
        await open_real_socket(servers[i % 2], await ticket_for(servers[i % 2], tokens[str(user)]))
        for i, user in enumerate(members)
    ]
    readers = [Reader(socket, servers[i % 2], tokens[str(members[i])], room) for i, socket in enumerate(sockets)]
    tasks = [asyncio.create_task(reader.run()) for reader in readers]
    # Ten HTTP clients, each a numbered sender (the members take turns), spread over both processes.
    senders = [(servers[i % 2], tokens[str(members[i % 3])], f"c{i}") for i in range(10)]

    async def phase(numbers: range) -> list[int]:
        results = await asyncio.gather(
            *(send_numbered(server, token, room, name, numbers) for server, token, name in senders)
        )
        return [status for statuses in results for status in statuses]

    assert set(await phase(range(0, 3))) == {201}
    redis_server.kill()
    # Redis is gone: every send is stored and answered 201 (the broadcast failed and was logged), and so is a
    # send over a socket (its ack).
    assert set(await phase(range(3, 6))) == {201}
    await sockets[0].send(json.dumps({"type": "message.send", "room": room, "text": "ws-0", "client_id": "ws-0"}))
    await until(lambda: readers[0].acks, "the socket's send was acknowledged")
    assert readers[0].acks[0]["client_id"] == "ws-0"
    redis_server.start()
    # Right after the restart, before the processes have subscribed again: sent, maybe not delivered live.
    assert set(await phase(range(6, 9))) == {201}
    await until(lambda: all(reader.resyncs for reader in readers), "every socket was told to resync")
    assert set(await phase(range(9, 10))) == {201}

    stored = await history(servers[0], tokens[str(members[0])], room)
    assert len(stored) == 10 * 10 + 1
    await until(
        lambda: all(set(reader.messages) >= set(stored) for reader in readers),
        lambda: f"every socket caught up; missing: {[sorted(set(stored) - set(r.messages)) for r in readers]}",
    )
    for reader in readers:
        # Exactly the stored messages, once each (duplicates were dropped by id), in the order they were stored.
        assert list(sorted(reader.messages)) == list(stored)
        assert [reader.messages[pk]["text"] for pk in sorted(reader.messages)] == [stored[pk] for pk in stored]
    for i in range(10):  # each numbered sender's messages in its order
        numbers = [int(text.split("-")[1]) for text in stored.values() if text.startswith(f"c{i}-")]
        assert numbers == list(range(10))
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*tasks)


async def history(server: DaphneProcess, token: str, room: int) -> dict[int, str]:
    """Every stored message of the room, id -> text, oldest first."""
    reader = Reader(None, server, token, room)
    await reader.fetch_after(0)
    return {pk: reader.messages[pk]["text"] for pk in sorted(reader.messages)}


def test_redis_killed_while_clients_send_every_send_is_stored_and_every_socket_resyncs(cluster):
    asyncio.run(redis_outage_scenario(*cluster))


# --- A Daphne process killed: presence and the socket cap heal -----------------------------------------------------
@pytest.fixture
def lease_cluster(database_url, private_redis):  # noqa: F811
    url, migrate = database_url
    data = seed(url, members=2, outsiders=0, migrate=migrate)
    # Short leases, so that the test waits seconds rather than a minute; conditions are waited on, never slept.
    env = server_settings(
        private_redis,
        CHAT_MAX_SOCKETS_PER_USER="3",
        CHAT_PRESENCE_LEASE_SECONDS="3",
        CHAT_PRESENCE_REFRESH_SECONDS="0.5",
    )
    started = [DaphneProcess(url, **env) for _ in range(2)]
    yield started, data
    for server in started:
        server.stop()


async def fate(socket) -> str:
    """ "open" when the socket answers a ping, else its close code."""
    try:
        await socket.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(WAIT):
            while json.loads(await socket.recv())["type"] != "pong":
                pass
        return "open"
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code}"


async def killed_process_scenario(servers: list[DaphneProcess], data: dict) -> None:
    survivor, doomed = servers
    teacher, student = data["members"]
    tokens = data["tokens"]
    watcher = await open_real_socket(survivor, await ticket_for(survivor, tokens[str(teacher)]))
    # The student's three sockets (the cap) live in the process about to die; a fourth, elsewhere, is refused.
    tabs = [await open_real_socket(doomed, await ticket_for(doomed, tokens[str(student)])) for _ in range(3)]
    assert [await fate(tab) for tab in tabs] == ["open"] * 3
    assert await next_of(watcher, "presence", WAIT) == {"type": "presence", "user": student, "online": True}
    refused = await open_real_socket(survivor, await ticket_for(survivor, tokens[str(student)]))
    assert await fate(refused) == f"closed {CLOSE_TOO_MANY_SOCKETS}"

    doomed.process.kill()  # SIGKILL: no cleanup runs
    doomed.process.wait()
    # Its leases run out; the surviving process's next sweep announces the student offline.
    assert await next_of(watcher, "presence", WAIT) == {"type": "presence", "user": student, "online": False}
    # The dead sockets no longer count against the cap: three open again, a fourth is refused.
    again = [await open_real_socket(survivor, await ticket_for(survivor, tokens[str(student)])) for _ in range(3)]
    assert [await fate(tab) for tab in again] == ["open"] * 3
    assert await next_of(watcher, "presence", WAIT) == {"type": "presence", "user": student, "online": True}
    extra = await open_real_socket(survivor, await ticket_for(survivor, tokens[str(student)]))
    assert await fate(extra) == f"closed {CLOSE_TOO_MANY_SOCKETS}"
    for socket in (*again, watcher):
        await socket.close()


def test_a_killed_process_users_go_offline_and_free_their_sockets_within_the_lease(lease_cluster):
    asyncio.run(killed_process_scenario(*lease_cluster))
