"""Ids in WebSocket frames have the same bounds as in the REST API (config.parsing.BIGINT_MAX): an id above the
largest database id is a `bad_frame` error, and the socket stays open (it reached the database and failed on
SQLite before)."""

import json

import pytest
from channels.db import database_sync_to_async

from chat.models import Message
from config.parsing import BIGINT_MAX
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.chat.conftest import next_frame, open_socket
from tests.chat.factories import group_room

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def test_ids_above_the_largest_database_id_are_bad_frames(db):
    teacher, student = await database_sync_to_async(TeacherFactory)(), await database_sync_to_async(StudentFactory)()
    room = await database_sync_to_async(group_room)(teacher, student)
    socket = await open_socket(teacher)
    for too_big in (BIGINT_MAX + 1, 10**30, int("9" * 4000)):
        for frame in (
            {"type": "message.send", "room": too_big, "text": "x", "client_id": "a"},
            {"type": "typing", "room": too_big},
            {"type": "read", "room": room.pk, "message_id": too_big},
            {"type": "read", "room": too_big, "message_id": 1},
        ):
            await socket.send_to(text_data=json.dumps(frame))
            answer = await next_frame(socket)
            assert (answer["type"], answer["code"]) == ("error", "bad_frame"), frame
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    await socket.send_json_to({"type": "message.send", "room": room.pk, "text": "x", "client_id": "ok"})
    assert (await next_frame(socket))["type"] == "ack"
    assert await database_sync_to_async(Message.objects.count)() == 1
    await socket.disconnect()


async def test_a_nul_character_in_frame_text_is_invalid(db):
    """PostgreSQL cannot store NUL in text: refused in the frame with the REST API's 400 code, naming the field."""
    teacher, student = await database_sync_to_async(TeacherFactory)(), await database_sync_to_async(StudentFactory)()
    room = await database_sync_to_async(group_room)(teacher, student)
    socket = await open_socket(teacher)
    for frame in (
        {"type": "message.send", "room": room.pk, "text": "a\x00b", "client_id": "a"},
        {"type": "message.send", "room": room.pk, "text": "ok", "client_id": "b\x00"},
    ):
        await socket.send_to(text_data=json.dumps(frame))
        answer = await next_frame(socket)
        assert (answer["type"], answer["code"]) == ("error", "invalid"), frame
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    assert await database_sync_to_async(Message.objects.count)() == 0
    await socket.disconnect()
