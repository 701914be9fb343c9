"""The WebSocket consumer through Channels' WebsocketCommunicator on the real ASGI application."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chat.models import Message, Participant
from chat.selectors import subject_room_for
from chat.services import message_post, rooms_sync_for_student, system_message_post
from chat.tickets import ticket_issue
from tests.accounts.factories import StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.chat.conftest import (
    RECEIVE_TIMEOUT,
    application,
    frames_for,
    frames_until,
    next_frame,
    next_output,
    open_socket,
    room_channels,
    until,
)
from tests.chat.factories import group_room
from tests.conftest import client_for
from tests.materials.factories import EnrollmentFactory
from tests.shapes import person

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


@pytest.fixture
def people(db):
    teacher, first, second = TeacherFactory(), StudentFactory(), StudentFactory()
    outsider = StudentFactory()
    room = group_room(teacher, first, second)
    return teacher, first, second, outsider, room


async def send_message(socket, room, text, client_id):
    await socket.send_json_to({"type": "message.send", "room": room.pk, "text": text, "client_id": client_id})


# --- Authentication ----------------------------------------------------------------------------------------
async def test_unknown_missing_and_reused_tickets_close_with_4401(student):
    for path in ("/ws/chat/?ticket=nope", "/ws/chat/"):
        socket = WebsocketCommunicator(application(), path, headers=[(b"origin", b"http://testserver")])
        await socket.connect(timeout=RECEIVE_TIMEOUT)
        assert await next_output(socket) == {"type": "websocket.close", "code": 4401}

    ticket = await database_sync_to_async(ticket_issue)(user_id=student.pk)
    first = await open_socket(student, ticket=ticket)
    await first.send_json_to({"type": "ping"})
    assert await next_frame(first) == {"type": "pong"}
    reused = WebsocketCommunicator(
        application(), f"/ws/chat/?ticket={ticket}", headers=[(b"origin", b"http://testserver")]
    )
    await reused.connect(timeout=RECEIVE_TIMEOUT)
    assert await next_output(reused) == {"type": "websocket.close", "code": 4401}
    await first.disconnect()


async def test_foreign_origin_is_refused(student):
    ticket = await database_sync_to_async(ticket_issue)(user_id=student.pk)
    socket = WebsocketCommunicator(
        application(), f"/ws/chat/?ticket={ticket}", headers=[(b"origin", b"http://evil.test")]
    )
    connected, _ = await socket.connect(timeout=RECEIVE_TIMEOUT)
    assert not connected


async def test_inactive_user_is_refused(student):
    ticket = await database_sync_to_async(ticket_issue)(user_id=student.pk)
    student.is_active = False
    await database_sync_to_async(student.save)()
    socket = WebsocketCommunicator(
        application(), f"/ws/chat/?ticket={ticket}", headers=[(b"origin", b"http://testserver")]
    )
    await socket.connect(timeout=RECEIVE_TIMEOUT)
    assert await next_output(socket) == {"type": "websocket.close", "code": 4401}
    await socket.disconnect()


# --- Delivery -------------------------------------------------------------------------------------------------
async def test_message_reaches_every_member_socket_and_only_members(people):
    teacher, first, second, outsider, room = people
    sender = await open_socket(first)
    second_phone, second_laptop = await open_socket(second), await open_socket(second)
    teacher_socket, outsider_socket = await open_socket(teacher), await open_socket(outsider)

    await send_message(sender, room, "hello all", "c1")
    ack = await next_frame(sender)
    assert ack["type"] == "ack"
    assert ack["client_id"] == "c1"
    stored = ack["message"]
    assert stored["text"] == "hello all"
    assert stored["sender"] == person(first)
    assert await database_sync_to_async(Message.objects.filter(pk=stored["id"]).exists)()
    for socket in (sender, second_phone, second_laptop, teacher_socket):
        assert await next_frame(socket) == {"type": "message.new", "message": stored}
    assert await frames_for(outsider_socket, 0.3) == []
    for socket in (sender, second_phone, second_laptop, teacher_socket, outsider_socket):
        await socket.disconnect()


async def test_rest_send_reaches_the_same_sockets(people):
    _, first, second, _, room = people
    listener = await open_socket(second)
    client = await database_sync_to_async(client_for)(first)
    response = await database_sync_to_async(client.post)(
        f"/api/chat/rooms/{room.pk}/messages/", {"text": "over REST", "client_id": "r1"}, format="json"
    )
    assert response.status_code == 201
    assert await next_frame(listener) == {"type": "message.new", "message": response.json()}
    await listener.disconnect()


async def test_events_carry_the_same_message_object_as_rest(people):
    """The sender is the person reference on every path: WebSocket ack and broadcast, edit, system message, and
    the REST history, object for object."""
    teacher, first, second, _, room = people
    sender, listener = await open_socket(first), await open_socket(second)
    await send_message(sender, room, "over the socket", "w1")
    ack = await frames_until(sender, 1, frame_type="ack")
    broadcast = await next_frame(listener)
    assert broadcast == {"type": "message.new", "message": ack[0]["message"]}
    assert broadcast["message"]["sender"] == person(first)

    client = await database_sync_to_async(client_for)(first)
    edited = await database_sync_to_async(client.patch)(
        f"/api/chat/messages/{broadcast['message']['id']}/", {"text": "edited"}, format="json"
    )
    assert edited.status_code == 200
    assert await next_frame(listener) == {"type": "message.updated", "message": edited.json()}

    notice = await database_sync_to_async(system_message_post)(room=room, text="Assignment published")
    system = await next_frame(listener)
    assert system["type"] == "message.new" and system["message"]["id"] == notice.pk
    assert system["message"]["sender"] is None

    reader = await database_sync_to_async(client_for)(teacher)
    history = await database_sync_to_async(reader.get)(f"/api/chat/rooms/{room.pk}/messages/")
    assert history.json()["results"] == [edited.json(), system["message"]]
    await sender.disconnect()
    await listener.disconnect()


async def test_duplicate_client_id_is_acked_with_the_stored_message_and_not_rebroadcast(people):
    _, first, second, _, room = people
    sender, listener = await open_socket(first), await open_socket(second)
    await send_message(sender, room, "once", "dup")
    first_ack = await frames_until(sender, 1, frame_type="ack")
    await send_message(sender, room, "twice", "dup")
    second_ack = await frames_until(sender, 1, frame_type="ack")
    assert first_ack == second_ack
    assert second_ack[0]["message"]["text"] == "once"
    received = await frames_for(listener, 0.5)
    assert [frame["type"] for frame in received] == ["message.new"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    await sender.disconnect()
    await listener.disconnect()


async def test_one_hundred_rapid_messages_arrive_in_order(people, settings):
    settings.CHAT_SEND_PER_SECOND = 1000
    _, first, second, _, room = people
    sender, listener = await open_socket(first), await open_socket(second)
    for n in range(100):
        await send_message(sender, room, f"m{n}", f"rapid-{n}")
    received = await frames_until(listener, 100, frame_type="message.new", timeout=30)
    texts = [frame["message"]["text"] for frame in received]
    ids = [frame["message"]["id"] for frame in received]
    assert texts == [f"m{n}" for n in range(100)]
    assert ids == sorted(ids)
    acks = await frames_until(sender, 100, frame_type="ack", timeout=30)
    assert [ack["client_id"] for ack in acks] == [f"rapid-{n}" for n in range(100)]

    # Unread counts follow: 100 for the listener, none for the sender (own messages).
    async def unread(user) -> int:
        client = await database_sync_to_async(client_for)(user)
        response = await database_sync_to_async(client.get)(f"/api/chat/rooms/{room.pk}/")
        return response.json()["unread_count"]

    assert await unread(second) == 100
    assert await unread(first) == 0
    await listener.send_json_to({"type": "read", "room": room.pk, "message_id": ids[59]})
    read = await frames_until(sender, 1, frame_type="read")
    assert read[0] == {"type": "read", "room": room.pk, "user": second.pk, "message_id": ids[59]}
    assert await unread(second) == 40
    # Backwards is ignored: no event, marker unchanged.
    await listener.send_json_to({"type": "read", "room": room.pk, "message_id": ids[10]})
    assert await frames_for(sender, 0.3) == []
    assert await unread(second) == 40
    marker = await database_sync_to_async(
        lambda: Participant.objects.get(room=room, user=second).last_read_message_id
    )()
    assert marker == ids[59]
    await sender.disconnect()
    await listener.disconnect()


async def test_edit_and_delete_reach_members(people):
    _, first, second, _, room = people
    listener = await open_socket(second)
    message, _ = await database_sync_to_async(message_post)(sender=first, room_id=room.pk, text="draft", client_id="e")
    assert (await next_frame(listener))["type"] == "message.new"
    client = await database_sync_to_async(client_for)(first)
    await database_sync_to_async(client.patch)(f"/api/chat/messages/{message.pk}/", {"text": "final"}, format="json")
    updated = await next_frame(listener)
    assert updated["type"] == "message.updated"
    assert (updated["message"]["id"], updated["message"]["text"]) == (message.pk, "final")
    await database_sync_to_async(client.delete)(f"/api/chat/messages/{message.pk}/")
    deleted = await next_frame(listener)
    assert deleted["type"] == "message.deleted"
    assert (deleted["message"]["id"], deleted["message"]["text"], deleted["message"]["deleted"]) == (
        message.pk,
        "",
        True,
    )
    await listener.disconnect()


async def test_sending_is_throttled_per_user(people, settings, time_machine):
    settings.CHAT_SEND_PER_SECOND = 5
    _, first, _, _, room = people
    sender = await open_socket(first)
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, 0, 100_000, tzinfo=UTC), tick=False)  # one second for the burst
    for n in range(8):
        await send_message(sender, room, "x", f"burst-{n}")
    replies = [await next_frame(sender, skip=("presence", "message.new")) for _ in range(8)]
    assert [reply["type"] for reply in replies] == ["ack"] * 5 + ["error"] * 3
    assert {reply["code"] for reply in replies[5:]} == {"throttled"}
    assert [reply["client_id"] for reply in replies[5:]] == ["burst-5", "burst-6", "burst-7"]
    assert await database_sync_to_async(Message.objects.count)() == 5
    await sender.disconnect()


# --- Bad frames ---------------------------------------------------------------------------------------------
async def test_bad_frames_get_errors_and_the_socket_stays_open(people):
    _, first, _, outsider, room = people
    foreign_room = await database_sync_to_async(group_room)(outsider, await database_sync_to_async(StudentFactory)())
    socket = await open_socket(first)
    cases = [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        (json.dumps({"no": "type"}), "bad_frame"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps({"type": "message.send", "room": room.pk, "client_id": "a"}), "bad_frame"),
        (json.dumps({"type": "message.send", "room": "1", "text": "x", "client_id": "a"}), "bad_frame"),
        (json.dumps({"type": "message.send", "room": room.pk, "text": "x", "client_id": ""}), "bad_frame"),
        (
            json.dumps({"type": "message.send", "room": room.pk, "text": "x" * 10_001, "client_id": "a"}),
            "text_too_long",
        ),
        (
            json.dumps({"type": "message.send", "room": foreign_room.pk, "text": "x", "client_id": "b"}),
            "not_found",
        ),
        (json.dumps({"type": "message.send", "room": 987654, "text": "x", "client_id": "c"}), "not_found"),
        (json.dumps({"type": "message.send", "room": room.pk, "text": "  ", "client_id": "d"}), "text_required"),
        (json.dumps({"type": "typing", "room": foreign_room.pk}), "not_found"),
        (json.dumps({"type": "read", "room": foreign_room.pk, "message_id": 1}), "not_found"),
        (json.dumps({"type": "read", "room": room.pk}), "bad_frame"),
    ]
    for text, code in cases:
        await socket.send_to(text_data=text)
        frame = await next_frame(socket)
        assert frame["type"] == "error", text
        assert frame["code"] == code, text
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await next_frame(socket))["code"] == "bad_frame"
    await socket.send_json_to({"type": "ping"})
    assert await next_frame(socket) == {"type": "pong"}
    assert await database_sync_to_async(Message.objects.count)() == 0
    # A frame above the size cap closes the socket (4009: message too big; Daphne refuses 1009 from the application).
    await socket.send_to(text_data="x" * (64 * 1024 + 1))
    assert await next_output(socket) == {"type": "websocket.close", "code": 4009}


# --- Typing and presence ---------------------------------------------------------------------------------
async def test_typing_is_relayed_to_other_members_and_rate_limited(people, settings):
    settings.CHAT_TYPING_INTERVAL_SECONDS = 3600  # no window ends during the test
    _, first, second, _, room = people
    typist, listener = await open_socket(first), await open_socket(second)
    await typist.send_json_to({"type": "typing", "room": room.pk})
    assert await next_frame(listener) == {"type": "typing", "room": room.pk, "user": first.pk}
    await typist.send_json_to({"type": "typing", "room": room.pk})
    await typist.send_json_to({"type": "typing", "room": room.pk})
    assert await frames_for(listener, 0.3) == []
    assert await frames_for(typist, 0.1) == []
    await typist.disconnect()
    await listener.disconnect()


@pytest.fixture
def read_only_room(db):
    teacher, student, tutor = TeacherFactory(), StudentFactory(), TutorFactory()
    return group_room(teacher, student, read_only=[tutor]), tutor


async def test_read_only_member_cannot_type_or_send(read_only_room):
    room, tutor = read_only_room
    socket = await open_socket(tutor)
    await socket.send_json_to({"type": "typing", "room": room.pk})
    assert (await next_frame(socket))["code"] == "not_found"
    await send_message(socket, room, "x", "ro")
    assert (await next_frame(socket))["code"] == "room_read_only"
    await socket.disconnect()


async def test_presence_counts_every_socket_of_a_user(people):
    _, first, second, _, _ = people
    watcher = await open_socket(first)
    phone = await open_socket(second)
    assert await next_frame(watcher, skip=()) == {"type": "presence", "user": second.pk, "online": True}
    # The newcomer learns who is online already.
    assert await next_frame(phone, skip=()) == {"type": "presence", "user": first.pk, "online": True}
    laptop = await open_socket(second)
    assert await next_frame(laptop, skip=()) == {"type": "presence", "user": first.pk, "online": True}
    assert await frames_for(watcher, 0.3, skip=()) == []  # already online
    await phone.disconnect()
    assert await frames_for(watcher, 0.3, skip=()) == []  # still online on the laptop
    await laptop.disconnect()
    assert await next_frame(watcher, skip=()) == {"type": "presence", "user": second.pk, "online": False}
    await watcher.disconnect()


# --- Reconnect and resynchronize ----------------------------------------------------------------------------
async def test_reconnect_and_resync_loses_and_duplicates_nothing(people, settings):
    settings.CHAT_SEND_PER_SECOND = 1000
    _, first, second, _, room = people
    sender = await open_socket(first)
    listener = await open_socket(second)
    client = await database_sync_to_async(client_for)(second)
    total = 60

    async def produce():
        for n in range(total):
            await send_message(sender, room, f"n{n}", f"resync-{n}")
            await asyncio.sleep(0.005)

    producing = asyncio.create_task(produce())
    seen: dict[int, str] = {}
    for frame in await frames_until(listener, 15, frame_type="message.new"):
        seen[frame["message"]["id"]] = frame["message"]["text"]
    await listener.disconnect()  # messages keep coming while the client is away
    await asyncio.sleep(0.1)
    listener = await open_socket(second)  # subscribe first, then fetch what was missed
    last_id = max(seen)
    while True:
        response = await database_sync_to_async(client.get)(
            f"/api/chat/rooms/{room.pk}/messages/", {"after": last_id, "limit": 100}
        )
        page = response.json()
        for message in page["results"]:
            seen.setdefault(message["id"], message["text"])
        if not page["has_more"]:
            break
        last_id = page["results"][-1]["id"]
    await producing
    live = []
    while len(seen) < total:
        frame = await next_frame(listener)
        if frame["type"] == "message.new":
            live.append(frame["message"]["id"])
            seen.setdefault(frame["message"]["id"], frame["message"]["text"])
    stored = await database_sync_to_async(lambda: list(Message.objects.order_by("id").values_list("id", "text")))()
    assert sorted(seen.items()) == stored
    assert [text for _, text in stored] == [f"n{n}" for n in range(total)]
    assert len(live) == len(set(live))  # the live stream itself never repeats a message
    await sender.disconnect()
    await listener.disconnect()


# --- Membership changes -----------------------------------------------------------------------------------
@pytest.fixture
def tutored(db):
    old_tutor, new_tutor = TutorFactory(), TutorFactory()
    student = link_student(StudentFactory(), tutor=old_tutor)
    enrollment = EnrollmentFactory(student=student)
    rooms_sync_for_student(student)
    room = subject_room_for(student.pk, enrollment.teacher_id, enrollment.subject_id)
    return student, enrollment.teacher, old_tutor, new_tutor, room


async def test_open_sockets_follow_rooms_created_later(tutored):
    student, _, old_tutor, _, _ = tutored
    listener = await open_socket(student)
    client = await database_sync_to_async(client_for)(old_tutor)
    created = await database_sync_to_async(client.post)(
        "/api/chat/rooms/", {"kind": "group", "name": "later", "users": [student.pk]}, format="json"
    )
    assert created.status_code == 201
    room_id = created.json()["id"]
    await until(lambda: room_channels(room_id), what="the socket joining the new room")
    response = await database_sync_to_async(client.post)(
        f"/api/chat/rooms/{created.json()['id']}/messages/", {"text": "new room", "client_id": "n"}, format="json"
    )
    frame = await next_frame(listener)
    assert (frame["type"], frame["message"]["id"]) == ("message.new", response.json()["id"])
    await listener.disconnect()


async def test_a_former_tutor_stops_receiving_the_subject_room(tutored):
    student, teacher, old_tutor, new_tutor, room = tutored
    old_socket, new_socket = await open_socket(old_tutor), await open_socket(new_tutor)
    before = room_channels(room.pk)  # the old tutor's socket (the student and the teacher are not connected)
    assert len(before) == 1

    def change_tutor():
        link_student(student, tutor=new_tutor)
        rooms_sync_for_student(student)

    await database_sync_to_async(change_tutor)()
    await until(
        lambda: (now := room_channels(room.pk)) and not now & before, what="the sockets following the new tutor"
    )
    message, _ = await database_sync_to_async(message_post)(sender=teacher, room_id=room.pk, text="hw", client_id="t")
    frame = await next_frame(new_socket)
    assert (frame["type"], frame["message"]["id"]) == ("message.new", message.pk)
    assert await frames_for(old_socket, 0.5) == []
    await old_socket.disconnect()
    await new_socket.disconnect()
