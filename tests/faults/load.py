"""The small load every fault scenario runs under, and its figures.

- 10 HTTP clients (one user each): reads (rooms, the room's last messages, their profile, health) and, one time in
  four, a chat message with a `client_id`, retried with the same `client_id` until it is acknowledged (2xx);
- a numbered sender posting `s-0`, `s-1`, … the same way, one after the other;
- 3 WebSocket clients in the room following docs/websocket.md "Reconnect and resync": they keep messages by id,
  fetch `?after=<highest id from the stream>` on a `resync` frame and after every (re)connection, and reconnect to
  the other server when their socket closes;
- the tutor sending invoices (`POST /api/invoices/<id>/send/`, retried until 200, or 409 once an earlier attempt
  went through): each queues a job that messages the parent on the fake Telegram once.

Each client spreads over both Daphne processes and moves to the other one when its server does not answer (what a
load balancer does). Every request is recorded (start, end, status or no answer)."""

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests.faults.stack import Stack

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the table

HTTP_CLIENTS = 10
PACE = 0.15  # seconds a client thinks between two requests (load shape, not synchronization)
RETRY = 0.2  # seconds before a write or a reconnection is tried again
WAIT = 90  # seconds a condition may take before the scenario fails (conditions are polled)


@dataclass
class Record:
    started: float
    ended: float
    status: int | None  # None: no answer (connection refused or reset, timeout)
    kind: str


@dataclass
class Figures:
    scenario: str
    requests: int = 0
    server_errors: int = 0
    not_503: int = 0  # 5xx other than 503 (an outage answers 503 service_unavailable; anything else is a bug)
    no_answer: int = 0
    server_errors_after: int = 0  # 5xx (or no answer) of requests started once the service was back for 1 s
    recovery: float | None = None  # first 2xx of a request started after the service was back, seconds
    slowest: float = 0.0
    slowest_by_kind: dict = field(default_factory=dict)
    slowest_during: float = 0.0  # the slowest request started between the fault and "back"
    max_backends: int | None = None  # most client backends of the application's database seen (pg_stat_activity)
    sent: int = 0
    stored: int = 0
    received: list[int] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    resyncs: int = 0
    reconnects: int = 0
    jobs_enqueued: int = 0
    jobs_done: int = 0
    jobs_duplicated: int = 0
    jobs_lost: int = 0
    jobs_stuck: int = 0
    outage: float = 0.0
    restarted_by_hand: list[str] = field(default_factory=list)
    supervisor_restarts: list[str] = field(default_factory=list)


class Load:
    def __init__(self, stack: Stack, scenario: int):
        self.stack = stack
        data = stack.data["scenarios"][scenario]
        self.room, self.tokens, self.invoices = data["room"], data["tokens"], data["invoices"]
        self.tutor_token = stack.data["tutor_token"]
        self.origin = time.monotonic()
        self.records: list[Record] = []
        self.acked: dict[str, int] = {}  # client_id -> message id, once acknowledged
        self.sent_invoices: list[int] = []
        self.stopping = False
        self.readers: list[Reader] = []
        self.tasks: list[asyncio.Task] = []
        self.http: httpx.AsyncClient | None = None
        self.numbered = 0

    def now(self) -> float:
        return time.monotonic() - self.origin

    # --- requests, with failover --------------------------------------------------------------------------
    async def call(self, prefer: int, method: str, path: str, token: str, kind: str, body: dict | None = None):
        """One request to the preferred server; the answer, or None (recorded either way)."""
        server = self.stack.servers[prefer % len(self.stack.servers)]
        started = self.now()
        try:
            response = await self.http.request(
                method, server.base_url + path, json=body, headers={"Authorization": f"Token {token}"}
            )
        except httpx.HTTPError:
            self.records.append(Record(started, self.now(), None, kind))
            return None
        self.records.append(Record(started, self.now(), response.status_code, kind))
        return response

    async def post_message(self, client: "Client", text: str) -> None:
        """Post until acknowledged (same client_id each time: the server stores it once)."""
        deadline = self.now() + WAIT
        while self.now() < deadline:
            path = f"/api/chat/rooms/{self.room}/messages/"
            response = await client.call("POST", path, "write", {"text": text, "client_id": text})
            if response is not None and response.status_code in (200, 201):
                self.acked[text] = response.json()["id"]
                return
            await asyncio.sleep(RETRY)
        raise AssertionError(f"{text} was never acknowledged")

    # --- the clients ----------------------------------------------------------------------------------------
    async def http_client(self, index: int) -> None:
        client = Client(self, index, self.tokens[4 + index])
        rng = random.Random(index)
        number = 0
        reads = [
            "/api/chat/rooms/",
            f"/api/chat/rooms/{self.room}/messages/?limit=20",
            "/api/profile/me/",
            "/api/health/",
        ]
        while not self.stopping:
            if rng.random() < 0.25:
                await self.post_message(client, f"h{index}-{number}")
                number += 1
            else:
                await client.call("GET", rng.choice(reads), "read")
            await asyncio.sleep(PACE)

    async def numbered_sender(self) -> None:
        client = Client(self, 0, self.tokens[14])
        while not self.stopping:
            await self.post_message(client, f"s-{self.numbered}")
            self.numbered += 1
            await asyncio.sleep(PACE)

    async def send_invoices(self, count: int) -> None:
        """Send the next `count` draft invoices (each queues its Telegram job), retried until accepted."""
        client = Client(self, 1, self.tutor_token)
        for bill in self.invoices[len(self.sent_invoices) : len(self.sent_invoices) + count]:
            deadline = self.now() + WAIT
            while True:
                response = await client.call("POST", f"/api/invoices/{bill['invoice']}/send/", "job")
                if response is not None and response.status_code in (200, 409):
                    break  # 409: an attempt whose answer was lost had sent it
                assert self.now() < deadline, f"invoice {bill['invoice']} was never sent"
                await asyncio.sleep(RETRY)
            self.sent_invoices.append(bill["invoice"])

    async def __aenter__(self):
        self.backends = BackendSampler(self.stack)
        self.backends.start()
        self.http = httpx.AsyncClient(timeout=30)
        # Sockets on servers 1, 0, 1: two of three on the server the Daphne scenario kills.
        self.readers = [Reader(self, index + 1, self.tokens[1 + index]) for index in range(3)]
        self.tasks = [asyncio.create_task(reader.run()) for reader in self.readers]
        await until(lambda: all(reader.connected for reader in self.readers), "every socket connected")
        self.tasks += [asyncio.create_task(self.http_client(index)) for index in range(HTTP_CLIENTS)]
        self.tasks.append(asyncio.create_task(self.numbered_sender()))
        return self

    async def messages_after(self, count: int) -> None:
        """Wait until the numbered sender has had `count` more messages acknowledged."""
        target = self.numbered + count
        await until(lambda: self.numbered >= target or any(t.done() for t in self.tasks), f"{count} more sends")
        for task in self.tasks:
            if task.done() and task.exception():
                raise task.exception()

    async def stop(self) -> None:
        """Stop the senders (each finishes its write), let every socket catch up, then close them."""
        self.stopping = True
        senders = self.tasks[len(self.readers) :]
        await asyncio.gather(*senders)
        stored = await self.history()
        await until(
            lambda: all(set(reader.messages) >= set(stored) for reader in self.readers),
            lambda: (
                "sockets caught up; missing "
                + str(
                    [
                        sorted((pk, stored[pk]["client_id"]) for pk in set(stored) - set(r.messages))
                        for r in self.readers
                    ]
                )
                + f"; highest ids from the stream {[r.upto for r in self.readers]} of {max(stored)}"
                + f"; resyncs {[r.resyncs for r in self.readers]}"
                + "\n"
                + self.stack.log_tail(6000)
            ),
        )
        for reader in self.readers:
            reader.closing = True
            if reader.socket is not None:
                await reader.socket.close()
        await asyncio.gather(*self.tasks[: len(self.readers)])

    async def __aexit__(self, *exc):
        await asyncio.to_thread(self.backends.stop)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()

    async def history(self) -> dict[int, dict]:
        """Every stored message of the room by id (read until a page answers, whatever the fault)."""
        fetcher = Reader(self, 0, self.tokens[0])
        await fetcher.fetch_after(0)
        return fetcher.messages

    # --- figures --------------------------------------------------------------------------------------------
    async def figures(self, name: str, back: float, outage: float) -> Figures:
        stored = await self.history()
        figures = Figures(scenario=name, outage=round(outage, 1))
        figures.requests = len(self.records)
        figures.server_errors = sum(1 for r in self.records if r.status is not None and r.status >= 500)
        figures.not_503 = sum(1 for r in self.records if r.status is not None and r.status >= 500 and r.status != 503)
        during = [r.ended - r.started for r in self.records if back - outage <= r.started <= back]
        figures.slowest_during = round(max(during, default=0.0), 2)
        figures.max_backends = self.backends.most
        figures.no_answer = sum(1 for r in self.records if r.status is None)
        figures.server_errors_after = sum(
            1 for r in self.records if r.started >= back + 1 and (r.status is None or r.status >= 500)
        )
        firsts = [r.ended for r in self.records if r.kind == "write" and r.started >= back and r.status in (200, 201)]
        figures.recovery = round(min(firsts) - back, 2) if firsts else None
        figures.slowest = round(max(r.ended - r.started for r in self.records), 2)
        for record in self.records:
            took = round(record.ended - record.started, 2)
            figures.slowest_by_kind[record.kind] = max(took, figures.slowest_by_kind.get(record.kind, 0))
        figures.sent = len(self.acked)
        figures.stored = len(stored)
        client_ids = Counter(message["client_id"] for message in stored.values())
        figures.duplicated = sum(count - 1 for count in client_ids.values())
        figures.received = [len(reader.messages) for reader in self.readers]
        figures.lost = max(len(set(self.acked) - {m["client_id"] for m in r.messages.values()}) for r in self.readers)
        figures.lost = max(figures.lost, len(set(self.acked) - set(client_ids)))
        figures.out_of_order = sum(reader.out_of_order() for reader in self.readers)
        figures.resyncs = sum(reader.resyncs for reader in self.readers)
        figures.reconnects = sum(reader.reconnects for reader in self.readers)
        await asyncio.to_thread(self.job_figures, figures)
        return figures

    def job_figures(self, figures: Figures, limit: float = WAIT) -> None:
        """Wait (bounded) until every sent invoice's parent got its message and no job is left to run; then count.
        A job still READY or RUNNING at the end is stuck; a sent invoice without a message is lost."""
        chat_ids = {bill["invoice"]: bill["chat_id"] for bill in self.invoices}
        wanted = {chat_ids[invoice] for invoice in self.sent_invoices}

        def messages() -> Counter:
            sent = Counter(body.get("chat_id") for body in self.stack.telegram.sent if body)
            return Counter({chat: sent[chat] for chat in wanted if sent[chat]})

        def pending() -> int:
            rows = self.stack.query(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
            )
            return rows[0][0]

        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not (set(messages()) >= wanted and pending() == 0):
            time.sleep(0.05)
        done = messages()
        figures.jobs_enqueued = len(self.sent_invoices)
        figures.jobs_done = len(done)
        figures.jobs_duplicated = sum(count - 1 for count in done.values())
        figures.jobs_lost = len(wanted - set(done))
        figures.jobs_stuck = pending()


class BackendSampler(threading.Thread):
    """Polls the number of client backends of the application's database (its own connection, each time a new one,
    not counted) until stopped; keeps the maximum. Errors (PostgreSQL down) are skipped."""

    SQL = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'thebot' AND backend_type = 'client backend'"
        " AND pid <> pg_backend_pid()"
    )

    def __init__(self, stack: Stack):
        super().__init__(daemon=True, name="backend-sampler")
        self.stack = stack
        self.most = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            with contextlib.suppress(psycopg.Error):  # PostgreSQL down: nothing to count
                self.most = max(self.most, self.stack.query(self.SQL)[0][0])
            self.halt.wait(0.05)

    def stop(self) -> None:
        self.halt.set()
        self.join()


class Client:
    """One user's HTTP side: prefers a server, moves to the other one when it does not answer."""

    def __init__(self, load: Load, prefer: int, token: str):
        self.load, self.prefer, self.token = load, prefer, token

    async def call(self, method: str, path: str, kind: str, body: dict | None = None):
        response = await self.load.call(self.prefer, method, path, self.token, kind, body)
        if response is None:
            self.prefer += 1
        return response


class Reader:
    """A chat client on one socket (docs/websocket.md "Reconnect and resync")."""

    def __init__(self, load: Load, index: int, token: str):
        self.load, self.token = load, token
        self.client = Client(load, index, token)
        self.messages: dict[int, dict] = {}
        self.upto = 0
        self.resyncs = 0
        self.reconnects = 0
        self.connected = False
        self.closing = False
        self.socket = None

    def keep(self, message: dict) -> None:
        self.messages.setdefault(message["id"], message)

    def out_of_order(self) -> int:
        """In the order the client shows them (by id): a sender's messages whose number goes down."""
        last: dict[str, int] = {}
        wrong = 0
        for pk in sorted(self.messages):
            sender, _, number = self.messages[pk]["client_id"].rpartition("-")
            if int(number) < last.get(sender, -1):
                wrong += 1
            last[sender] = int(number)
        return wrong

    async def ticket(self) -> str:
        while True:
            response = await self.client.call("POST", "/api/chat/ws-ticket/", "ticket")
            if response is not None and response.status_code == 200:
                return response.json()["ticket"]
            await asyncio.sleep(RETRY)

    async def run(self) -> None:
        while not self.closing:
            ticket = await self.ticket()
            server = self.load.stack.servers[self.client.prefer % len(self.load.stack.servers)]
            try:
                async with connect(
                    f"{server.ws_url}?ticket={ticket}", origin=server.base_url, compression=None, open_timeout=10
                ) as socket:
                    self.socket = socket
                    self.connected = True
                    await self.fetch_after(self.upto)
                    while True:
                        frame = json.loads(await socket.recv())
                        if frame["type"] == "message.new":
                            self.keep(frame["message"])
                            self.upto = max(self.upto, frame["message"]["id"])
                        elif frame["type"] == "resync":
                            self.resyncs += 1
                            await self.fetch_after(min(self.upto, frame.get("after", self.upto)))
            except (ConnectionClosed, InvalidHandshake, InvalidStatus, OSError, TimeoutError):
                pass
            if self.closing:
                return
            self.reconnects += 1
            self.client.prefer += 1
            await asyncio.sleep(RETRY)

    async def fetch_after(self, after: int) -> None:
        """Everything after `after`, page by page, each page retried until it answers."""
        while True:
            path = f"/api/chat/rooms/{self.load.room}/messages/?after={after}&limit=100"
            response = await self.client.call("GET", path, "resync")
            if response is None or response.status_code != 200:
                await asyncio.sleep(RETRY)
                continue
            page = response.json()
            for message in page["results"]:
                self.keep(message)
                self.upto = max(self.upto, message["id"])
            if not page["has_more"]:
                return
            after = page["results"][-1]["id"]


async def until(condition, what) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {WAIT} s: {what() if callable(what) else what}") from None
