"""Graceful shutdown of the server we ship (`python -m config.server`, `GracefulServer`), against a real process.

On SIGTERM the server stops listening at once, closes its WebSockets with 1012 (service restart), lets a request in
flight finish (answered with `Connection: close`), and exits 0; a request still running when SHUTDOWN_GRACE_SECONDS
is over is cancelled and the process exits 0 all the same. The request in flight is a view of a test urlconf
(tests/config/urls_slow.py) that answers only once the test creates a file: every wait is on a condition, bounded
only to end a broken run.
"""

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.chat.daphne import DaphneProcess, seed

pytestmark = [pytest.mark.slow, pytest.mark.heavy]

BOUND = 60.0  # ends a broken run; never a timing assertion


@pytest.fixture
def world(tmp_path):
    url = f"sqlite:///{tmp_path / 'shutdown.sqlite3'}"
    return url, seed(url, members=2, outsiders=0, migrate=True)


def start(url: str, grace: str) -> DaphneProcess:
    # Embedded cache and channel layer: one process, nothing shared to clean up.
    return DaphneProcess(
        url,
        DJANGO_SETTINGS_MODULE="tests.config.settings_slow",
        SHUTDOWN_GRACE_SECONDS=grace,
        REDIS_URL="",
        LOG_LEVEL="INFO",
    )


async def wait_for(condition, what: str) -> None:
    end = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


async def close_code(socket_) -> int:
    """Reads until the server closes the socket; its close code."""
    try:
        async with asyncio.timeout(BOUND):
            while True:
                await socket_.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


async def open_sockets(server: DaphneProcess, data: dict) -> list:
    sockets = []
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for user in data["members"]:
            auth = {"Authorization": f"Token {data['tokens'][str(user)]}"}
            ticket = (await client.post("/api/chat/ws-ticket/", headers=auth)).json()["ticket"]
            socket_ = await connect(
                f"{server.ws_url}?ticket={ticket}", origin=f"http://127.0.0.1:{server.port}", compression=None
            )
            await socket_.send(json.dumps({"type": "ping"}))  # accepted and answering
            async with asyncio.timeout(BOUND):
                while json.loads(await socket_.recv())["type"] != "pong":
                    pass
            sockets.append(socket_)
    return sockets


async def in_flight_request_finishes(server: DaphneProcess, data: dict, folder: Path) -> None:
    started, release = folder / "started", folder / "release"
    sockets = await open_sockets(server, data)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=BOUND) as client:
        slow = asyncio.create_task(client.get("/api/test-slow/", params={"started": started, "release": release}))
        await wait_for(started.exists, "the slow request to reach its view")

        server.process.send_signal(signal.SIGTERM)

        # Every socket is closed by the server with 1012 while the request is still running.
        codes = await asyncio.gather(*(close_code(socket_) for socket_ in sockets))
        assert codes == [1012] * len(sockets)
        # No new connection is accepted (a proxy tries another process).
        await wait_for(lambda: refuses_connections(server.port), "the server to stop listening")
        assert not slow.done()
        assert server.process.poll() is None

        release.write_text("go")
        response = await slow
    assert response.status_code == 200
    assert response.json()["released"] is True
    assert response.headers["connection"] == "close"
    assert server.process.wait(timeout=BOUND) == 0
    assert '"message": "drained"' in server.log_tail(100_000)


def test_sigterm_closes_sockets_with_1012_finishes_the_request_in_flight_and_exits_0(world, tmp_path):
    url, data = world
    server = start(url, grace="60")
    try:
        asyncio.run(in_flight_request_finishes(server, data, tmp_path))
    finally:
        server.stop()


async def request_past_the_grace(server: DaphneProcess, folder: Path) -> None:
    started, release = folder / "started", folder / "release"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=BOUND) as client:
        slow = asyncio.create_task(client.get("/api/test-slow/", params={"started": started, "release": release}))
        await wait_for(started.exists, "the slow request to reach its view")
        server.process.send_signal(signal.SIGTERM)
        with pytest.raises(httpx.TransportError):
            await slow  # never released: the grace ends it, the connection is dropped unanswered
    assert server.process.wait(timeout=BOUND) == 0
    assert "shutdown grace over; cancelling what is left" in server.log_tail(100_000)


def test_a_request_still_running_after_the_grace_is_cancelled_and_the_process_exits_0(world, tmp_path):
    url, _ = world
    server = start(url, grace="1")
    try:
        asyncio.run(request_past_the_grace(server, tmp_path))
    finally:
        (tmp_path / "release").write_text("go")  # the view's thread, if the process is still alive
        server.stop()
