"""A replaced tutor or parent loses the family's direct rooms at once; the new tutor takes them over with history.

Changes go through the real paths (the admin API, the Django admin's student profile and user pages); access is
checked over REST, and open sockets through the Channels communicator on the real ASGI application.
"""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from chat.models import ChatRoom, Message, Participant, RoomKind
from chat.selectors import direct_room_key
from chat.services import message_post, rooms_sync_for_student
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TutorFactory, link_student
from tests.chat.conftest import frames_until, next_frame, open_socket
from tests.chat.factories import group_room
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)  # the changes run their after-commit calls for real


def members(room_id: int) -> set[int]:
    return set(Participant.objects.filter(room_id=room_id).values_list("user_id", flat=True))


def direct_room(first, second) -> ChatRoom | None:
    return ChatRoom.objects.filter(kind=RoomKind.DIRECT, key=direct_room_key(first.pk, second.pk)).first()


@pytest.fixture
def family():
    """A student with tutor T1 and a parent, their two direct rooms with T1 (made by the links), some history."""
    old_tutor, new_tutor, parent = TutorFactory(), TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=old_tutor, parent=parent)
    student_room, parent_room = direct_room(student, old_tutor), direct_room(parent, old_tutor)
    message_post(sender=old_tutor, room_id=student_room.pk, text="homework: page 4", client_id="h1")
    message_post(sender=parent, room_id=parent_room.pk, text="she is ill on Monday", client_id="h2")
    return student, parent, old_tutor, new_tutor, student_room, parent_room


def admin_api():
    return client_for(AdminFactory(email="root@example.test", password="root-secret-password-1"))


def assert_locked_out(user, *room_ids: int) -> None:
    client = client_for(user)
    listed = {room["id"] for room in client.get("/api/chat/rooms/").json()["results"]}
    for room_id in room_ids:
        assert room_id not in listed
        for response in (
            client.get(f"/api/chat/rooms/{room_id}/"),
            client.get(f"/api/chat/rooms/{room_id}/messages/"),
            client.post(f"/api/chat/rooms/{room_id}/messages/", {"text": "x", "client_id": "late"}, format="json"),
            client.post(f"/api/chat/rooms/{room_id}/read/", {"message_id": 1}, format="json"),
        ):
            assert (response.status_code, response.json()["code"]) == (404, "not_found")


def history_of(user, room_id: int) -> list[str]:
    response = client_for(user).get(f"/api/chat/rooms/{room_id}/messages/")
    assert response.status_code == 200
    return [message["text"] for message in response.json()["results"]]


def test_a_new_tutor_through_the_admin_api_takes_over_both_rooms_with_their_history(family):
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    response = admin_api().patch(f"/api/admin/users/{student.pk}/", {"profile": {"tutor": new_tutor.pk}}, format="json")
    assert response.status_code == 200
    assert_locked_out(old_tutor, student_room.pk, parent_room.pk)
    assert members(student_room.pk) == {student.pk, new_tutor.pk}
    assert members(parent_room.pk) == {parent.pk, new_tutor.pk}
    assert history_of(new_tutor, student_room.pk) == ["homework: page 4"]
    assert history_of(new_tutor, parent_room.pk) == ["she is ill on Monday"]
    # The history reads as read for the newcomer; the family keeps its own markers.
    rooms = {room["id"]: room for room in client_for(new_tutor).get("/api/chat/rooms/").json()["results"]}
    assert rooms[student_room.pk]["unread_count"] == rooms[parent_room.pk]["unread_count"] == 0
    # One room per pair still: opening the direct room again returns the taken-over one.
    opened = client_for(student).post("/api/chat/rooms/", {"kind": "direct", "user": new_tutor.pk}, format="json")
    assert (opened.status_code, opened.json()["id"]) == (200, student_room.pk)
    assert ChatRoom.objects.filter(kind=RoomKind.DIRECT).count() == 2
    sent = client_for(new_tutor).post(
        f"/api/chat/rooms/{student_room.pk}/messages/", {"text": "hello, I am new", "client_id": "n1"}, format="json"
    )
    assert sent.status_code == 201


def test_the_django_admin_change_of_a_tutor_locks_the_old_one_out(family):
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    browser = Client()
    browser.force_login(AdminFactory(email="root@example.test", password="root-secret-password-1"))
    response = browser.post(
        f"/admin/accounts/studentprofile/{student.pk}/change/",
        {"grade": "", "goal": "", "tutor": new_tutor.pk, "parent": parent.pk},
    )
    assert response.status_code == 302, response.content[:2000]
    assert_locked_out(old_tutor, student_room.pk, parent_room.pk)
    assert members(student_room.pk) == {student.pk, new_tutor.pk}
    assert members(parent_room.pk) == {parent.pk, new_tutor.pk}


def test_the_django_admin_user_page_change_of_a_tutor_locks_the_old_one_out(family):
    """The student profile inline of the user's own admin page is a write of the links too."""
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    browser = Client()
    browser.force_login(AdminFactory())
    page = browser.get(f"/admin/accounts/user/{student.pk}/change/")
    assert page.status_code == 200
    form = {
        "email": student.email,
        "first_name": student.first_name,
        "last_name": student.last_name,
        "timezone": student.timezone,
        "phone": student.phone,
        "is_active": "on",
        "student_profile-TOTAL_FORMS": "1",
        "student_profile-INITIAL_FORMS": "1",
        "student_profile-MIN_NUM_FORMS": "0",
        "student_profile-MAX_NUM_FORMS": "1",
        "student_profile-0-user": student.pk,
        "student_profile-0-grade": "",
        "student_profile-0-goal": "",
        "student_profile-0-tutor": new_tutor.pk,
        "student_profile-0-parent": parent.pk,
    }
    response = browser.post(f"/admin/accounts/user/{student.pk}/change/", form)
    assert response.status_code == 302, response.content[:3000]
    assert_locked_out(old_tutor, student_room.pk, parent_room.pk)
    assert members(student_room.pk) == {student.pk, new_tutor.pk}
    assert members(parent_room.pk) == {parent.pk, new_tutor.pk}


def test_the_self_service_profile_edit_leaves_the_rooms_alone(family):
    student, _, old_tutor, _, student_room, parent_room = family
    response = client_for(student).patch("/api/profile/me/", {"profile": {"goal": "pass"}}, format="json")
    assert response.status_code == 200
    assert members(student_room.pk) == {student.pk, old_tutor.pk}
    assert old_tutor.pk in members(parent_room.pk)


def test_a_replaced_parent_leaves_and_the_new_parent_gets_a_room_of_their_own(family):
    student, parent, tutor, _, student_room, parent_room = family
    new_parent = ParentFactory()
    response = admin_api().patch(
        f"/api/admin/users/{student.pk}/", {"profile": {"parent": new_parent.pk}}, format="json"
    )
    assert response.status_code == 200
    assert_locked_out(parent, parent_room.pk)
    assert members(parent_room.pk) == {tutor.pk}  # the tutor keeps what was said
    assert history_of(tutor, parent_room.pk) == ["she is ill on Monday"]
    new_room = direct_room(new_parent, tutor)
    assert members(new_room.pk) == {new_parent.pk, tutor.pk}
    assert history_of(new_parent, new_room.pk) == []
    assert members(student_room.pk) == {student.pk, tutor.pk}


def test_tutor_and_parent_replaced_at_once(family):
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    new_parent = ParentFactory()
    response = admin_api().patch(
        f"/api/admin/users/{student.pk}/",
        {"profile": {"tutor": new_tutor.pk, "parent": new_parent.pk}},
        format="json",
    )
    assert response.status_code == 200
    assert_locked_out(old_tutor, student_room.pk, parent_room.pk)
    assert_locked_out(parent, parent_room.pk)
    assert members(student_room.pk) == {student.pk, new_tutor.pk}
    assert members(parent_room.pk) == set()
    assert members(direct_room(new_parent, new_tutor).pk) == {new_parent.pk, new_tutor.pk}


def test_a_removed_tutor_leaves_and_the_family_keeps_the_history(family):
    student, parent, old_tutor, _, student_room, parent_room = family
    response = admin_api().patch(f"/api/admin/users/{student.pk}/", {"profile": {"tutor": None}}, format="json")
    assert response.status_code == 200
    assert_locked_out(old_tutor, student_room.pk, parent_room.pk)
    assert history_of(student, student_room.pk) == ["homework: page 4"]
    assert history_of(parent, parent_room.pk) == ["she is ill on Monday"]
    # The pair's key is free again: linking the same tutor later makes a new room.
    link_student(student, tutor=old_tutor)
    assert direct_room(student, old_tutor).pk != student_room.pk


def test_a_parents_room_stays_while_a_sibling_keeps_that_tutor(family):
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    sibling = link_student(StudentFactory(), tutor=old_tutor, parent=parent)
    link_student(student, tutor=new_tutor)
    assert members(parent_room.pk) == {parent.pk, old_tutor.pk}  # still the sibling's tutor
    assert members(direct_room(parent, new_tutor).pk) == {parent.pk, new_tutor.pk}
    assert members(student_room.pk) == {student.pk, new_tutor.pk}
    assert members(direct_room(sibling, old_tutor).pk) == {sibling.pk, old_tutor.pk}


def test_the_accounts_service_names_the_former_tutor_so_the_parents_room_is_taken_over_on_its_own(family):
    student, parent, old_tutor, new_tutor, student_room, parent_room = family
    # The student's room with the tutor is gone (made before the links were followed, or never): only the
    # explicit call from the accounts service, naming the former tutor, tells the parent's room whose it was.
    student_room.delete()
    response = admin_api().patch(f"/api/admin/users/{student.pk}/", {"profile": {"tutor": new_tutor.pk}}, format="json")
    assert response.status_code == 200
    assert_locked_out(old_tutor, parent_room.pk)
    assert members(parent_room.pk) == {parent.pk, new_tutor.pk}
    assert history_of(new_tutor, parent_room.pk) == ["she is ill on Monday"]


def test_running_the_sync_again_changes_nothing(family):
    student, _, _, new_tutor, _, _ = family
    link_student(student, tutor=new_tutor)
    snapshot = sorted(Participant.objects.values_list("room_id", "user_id", "last_read_message_id"))
    keys = sorted(ChatRoom.objects.values_list("pk", "key"))
    rooms_sync_for_student(student)
    assert sorted(Participant.objects.values_list("room_id", "user_id", "last_read_message_id")) == snapshot
    assert sorted(ChatRoom.objects.values_list("pk", "key")) == keys


# --- Open sockets -------------------------------------------------------------------------------------------
@pytest.mark.anyio
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_the_old_tutors_open_socket_gets_nothing_more_and_the_new_tutors_gets_the_room(family):
    student, _, old_tutor, new_tutor, student_room, _ = family
    elsewhere = await database_sync_to_async(group_room)(old_tutor, student, name="still shared")
    old_socket, new_socket, student_socket = (
        await open_socket(old_tutor),
        await open_socket(new_tutor),
        await open_socket(student),
    )
    changed = await database_sync_to_async(
        lambda: admin_api().patch(
            f"/api/admin/users/{student.pk}/", {"profile": {"tutor": new_tutor.pk}}, format="json"
        )
    )()
    assert changed.status_code == 200

    # The new tutor's socket joins the room once its membership event is handled: send until one arrives.
    for attempt in range(200):
        await student_socket.send_json_to(
            {"type": "message.send", "room": student_room.pk, "text": f"probe {attempt}", "client_id": f"p{attempt}"}
        )
        await next_frame(student_socket, skip=("presence", "message.new"))  # the ack
        frames = await frames_until_or_none(new_socket)
        if frames is not None:
            assert frames["message"]["room"] == student_room.pk
            break
    else:
        pytest.fail("the new tutor's socket never received the room")

    # Then a message in a room the old tutor still shares: it is the first thing their socket gets.
    marker, _ = await database_sync_to_async(message_post)(
        sender=student, room_id=elsewhere.pk, text="marker", client_id="m"
    )
    (first,) = await frames_until(old_socket, 1, frame_type="message.new")
    assert first["message"]["id"] == marker.pk
    await old_socket.send_json_to({"type": "typing", "room": student_room.pk})
    assert (await next_frame(old_socket))["code"] == "not_found"
    await old_socket.send_json_to(
        {"type": "message.send", "room": student_room.pk, "text": "still here?", "client_id": "late"}
    )
    assert (await next_frame(old_socket))["code"] == "not_found"
    assert not await database_sync_to_async(Message.objects.filter(sender=old_tutor, client_id="late").exists)()
    for socket in (old_socket, new_socket, student_socket):
        await socket.disconnect()


async def frames_until_or_none(socket):
    """The next `message.new` frame within a short wait, or None (used only while waiting for a condition)."""
    try:
        (frame,) = await frames_until(socket, 1, frame_type="message.new", timeout=0.2)
    except AssertionError:
        return None
    return frame
