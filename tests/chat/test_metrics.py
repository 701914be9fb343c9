"""Chat's Prometheus figures (config/metrics.py): open sockets per process, and events the channel layer did not
take (a Redis that refuses), counted where chat/broadcast.py gives them up."""

import uuid

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from prometheus_client import REGISTRY

from chat import broadcast
from tests.chat.conftest import HEADERS, application, open_socket, until
from tests.chat.factories import group_room
from tests.conftest import client_for

OPEN = "thebot_websockets_open"
FAILURES = "thebot_channel_layer_publish_failures_total"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_open_sockets_go_up_on_connect_and_down_on_close(student):
    start = sample(OPEN)
    first = await open_socket(student)
    second = await open_socket(student)
    assert sample(OPEN) == start + 2
    await first.disconnect()
    await until(lambda: sample(OPEN) == start + 1, what="the first socket counted out")
    await second.disconnect()
    await until(lambda: sample(OPEN) == start, what="the second socket counted out")


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_refused_ticket_is_never_counted_as_open():
    start = sample(OPEN)
    socket = WebsocketCommunicator(application(), "/ws/chat/?ticket=nope", headers=HEADERS)
    await socket.connect()
    await socket.disconnect()
    assert sample(OPEN) == start


@pytest.fixture
def refusing_layer(settings):
    """A channel layer on a Redis that is not there (port 1 on loopback refuses at once)."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    broadcast._missed_rooms.clear()
    yield
    channel_layers.backends.clear()
    broadcast._missed_rooms.clear()


@pytest.mark.django_db
@pytest.mark.usefixtures("refusing_layer")
def test_a_publish_the_layer_refuses_is_counted_and_the_send_succeeds(
    student, teacher, django_capture_on_commit_callbacks
):
    room = group_room(teacher, student)
    start = sample(FAILURES, kind="room_event")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(student).post(
            f"/api/chat/rooms/{room.pk}/messages/", {"text": "hi", "client_id": str(uuid.uuid4())}, format="json"
        )
    assert response.status_code == 201, response.content
    assert sample(FAILURES, kind="room_event") == start + 1
