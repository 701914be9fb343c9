import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator

from chat.broadcast import room_group
from chat.tickets import ticket_issue

HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
RECEIVE_TIMEOUT = 5


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def fresh_channel_layer():
    """Each async test runs its own event loop: start it with a channel layer made for that loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def application():
    from config.asgi import application as asgi_application

    return asgi_application


async def open_socket(user, *, ticket: str | None = None, headers=HEADERS) -> WebsocketCommunicator:
    if ticket is None:
        ticket = await database_sync_to_async(ticket_issue)(user_id=user.pk)
    socket = WebsocketCommunicator(application(), f"/ws/chat/?ticket={ticket}", headers=headers)
    connected, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
    assert connected
    return socket


async def next_output(socket, timeout=RECEIVE_TIMEOUT) -> dict | None:
    """The application's next ASGI message, or None after `timeout` (unlike `receive_output`, a timeout does not
    cancel the application)."""
    deadline = time.monotonic() + timeout
    while socket.output_queue.empty():
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.002)
    return socket.output_queue.get_nowait()


async def next_frame(socket, *, skip=("presence",), timeout=RECEIVE_TIMEOUT) -> dict:
    """The next frame, skipping presence frames (they arrive whenever people connect)."""
    deadline = time.monotonic() + timeout
    while True:
        output = await next_output(socket, max(0.0, deadline - time.monotonic()))
        assert output is not None, "no frame arrived in time"
        assert output["type"] == "websocket.send", output
        frame = json.loads(output["text"])
        if frame["type"] not in skip:
            return frame


async def frames_for(socket, seconds: float, *, skip=("presence",)) -> list[dict]:
    """Every frame received within `seconds` (an empty list when none came)."""
    frames = []
    deadline = time.monotonic() + seconds
    while (output := await next_output(socket, max(0.0, deadline - time.monotonic()))) is not None:
        assert output["type"] == "websocket.send", output
        frame = json.loads(output["text"])
        if frame["type"] not in skip:
            frames.append(frame)
    return frames


async def frames_until(socket, count: int, *, frame_type: str, timeout=RECEIVE_TIMEOUT) -> list[dict]:
    """The next `count` frames of one type (other types are skipped)."""
    frames = []
    deadline = time.monotonic() + timeout
    while len(frames) < count:
        frame = await next_frame(socket, skip=(), timeout=max(0.0, deadline - time.monotonic()))
        if frame["type"] == frame_type:
            frames.append(frame)
    return frames


def room_channels(room_id: int) -> set[str]:
    """The channels (sockets of this process) in a room's group, read from the channel layer of this process
    (the in-memory layer and channels-redis' pub/sub layer both keep their groups in `groups`)."""
    layer = get_channel_layer()
    group = room_group(room_id)
    name = layer._get_group_channel_name(group) if hasattr(layer, "_get_group_channel_name") else group
    return set(layer.groups.get(name, ()))


async def until(condition, *, timeout=RECEIVE_TIMEOUT, what="the condition") -> None:
    """Wait until `condition()` holds (checked every few milliseconds), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await asyncio.sleep(0.005)
