import pytest

from chat.models import ChatRoom, Participant, RoomKind
from chat.services import message_post
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, link_student
from tests.chat.factories import group_room
from tests.materials.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db(transaction=False)

ROOMS = "/api/chat/rooms/"


def test_rooms_require_authentication(api_client):
    assert api_client.get(ROOMS).status_code == 401
    assert api_client.post("/api/chat/ws-ticket/").status_code == 401


def test_direct_room_is_unique_and_opening_again_returns_it(
    make_client, student, tutor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        link_student(student, tutor=tutor)
    client = make_client(student)
    # The automatic student-tutor room already exists, so opening it returns it.
    first = client.post(ROOMS, {"kind": "direct", "user": tutor.pk}, format="json")
    assert first.status_code == 200
    again = make_client(tutor).post(ROOMS, {"kind": "direct", "user": student.pk}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ChatRoom.objects.filter(kind=RoomKind.DIRECT).count() == 1
    assert sorted(p["user"]["id"] for p in first.json()["participants"]) == sorted([student.pk, tutor.pk])


def test_direct_room_created_with_visible_user(make_client, teacher):
    enrollment = EnrollmentFactory(teacher=teacher)
    response = make_client(teacher).post(ROOMS, {"kind": "direct", "user": enrollment.student_id}, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "direct"


def test_direct_room_with_invisible_user_is_404(make_client, student):
    stranger = StudentFactory()
    response = make_client(student).post(ROOMS, {"kind": "direct", "user": stranger.pk}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "user_not_found"
    assert not ChatRoom.objects.exists()


def test_direct_room_with_self_is_rejected(make_client, student):
    response = make_client(student).post(ROOMS, {"kind": "direct", "user": student.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "direct_with_self"


def test_group_room_by_tutor_with_their_students(make_client, tutor):
    students = [link_student(StudentFactory(), tutor=tutor) for _ in range(2)]
    response = make_client(tutor).post(
        ROOMS, {"kind": "group", "name": "Study group", "users": [s.pk for s in students]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Study group"
    assert sorted(p["user"]["id"] for p in body["participants"]) == sorted([tutor.pk, *[s.pk for s in students]])


def test_group_room_refused_to_students_and_with_unseen_users(make_client, student, tutor):
    response = make_client(student).post(ROOMS, {"kind": "group", "name": "x", "users": []}, format="json")
    assert response.status_code == 403
    stranger = StudentFactory()
    response = make_client(tutor).post(ROOMS, {"kind": "group", "name": "x", "users": [stranger.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["users"]


def test_room_create_validates_input(make_client, tutor):
    response = make_client(tutor).post(ROOMS, {"kind": "group"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "users"}
    response = make_client(tutor).post(ROOMS, {"kind": "subject", "user": 1}, format="json")
    assert response.status_code == 400


def test_foreign_room_is_404_like_a_missing_one(make_client, student):
    other = group_room(StudentFactory(), StudentFactory())
    client = make_client(student)
    for path in (f"{ROOMS}{other.pk}/", f"{ROOMS}{other.pk}/messages/", f"{ROOMS}999999/messages/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_rooms_list_newest_activity_first_with_last_message_and_unread(make_client, student, teacher):
    old = group_room(teacher, student, name="old")
    new = group_room(teacher, student, name="new")
    message_post(sender=teacher, room_id=old.pk, text="first", client_id="a")
    message_post(sender=teacher, room_id=old.pk, text="second", client_id="b")
    message_post(sender=student, room_id=old.pk, text="mine", client_id="c")
    body = make_client(student).get(ROOMS).json()
    assert body["count"] == 2
    assert [room["id"] for room in body["results"]] == [old.pk, new.pk]
    latest = body["results"][0]
    assert latest["last_message"]["text"] == "mine"
    # Messages after the marker not sent by the user.
    assert latest["unread_count"] == 2
    assert body["results"][1]["last_message"] is None
    assert body["results"][1]["unread_count"] == 0


def _rooms_with_messages(user, count: int) -> None:
    for index in range(count):
        other = TeacherFactory()
        room = group_room(user, other, StudentFactory(), name=f"room {index}")
        message_post(sender=other, room_id=room.pk, text=f"hello {index}", client_id=f"c{index}")


@pytest.mark.parametrize("rooms", [1, 50])
def test_rooms_list_query_count_is_fixed(make_client, django_assert_num_queries, student, rooms):
    _rooms_with_messages(student, rooms)
    client = make_client(student)
    # auth (the token with its user), count, rooms page, participants with users
    with django_assert_num_queries(4):
        response = client.get(ROOMS, {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == rooms
    assert all(room["unread_count"] == 1 for room in response.json()["results"])
    assert all(len(room["participants"]) == 3 for room in response.json()["results"])


def test_ws_ticket_is_issued(make_client, student):
    response = make_client(student).post("/api/chat/ws-ticket/")
    assert response.status_code == 200
    assert response.json()["expires_in"] == 60
    assert len(response.json()["ticket"]) >= 32


def test_parent_sees_direct_room_with_tutor(make_client, tutor, django_capture_on_commit_callbacks):
    parent = ParentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    rooms = make_client(parent).get(ROOMS).json()["results"]
    assert len(rooms) == 1
    assert sorted(p["user"]["id"] for p in rooms[0]["participants"]) == sorted([parent.pk, tutor.pk])
    assert Participant.objects.filter(user=student).count() == 1
