from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import Message, Participant
from chat.services import message_post, system_message_post
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.chat.factories import group_room
from tests.shapes import person

pytestmark = pytest.mark.django_db


def messages_url(room) -> str:
    return f"/api/chat/rooms/{room.pk}/messages/"


@pytest.fixture
def room(student, teacher):
    return group_room(teacher, student)


def test_send_is_idempotent_by_client_id(make_client, room, student):
    client = make_client(student)
    first = client.post(messages_url(room), {"text": "hello", "client_id": "k1"}, format="json")
    assert first.status_code == 201
    again = client.post(messages_url(room), {"text": "hello (retry)", "client_id": "k1"}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    body = first.json()
    assert body["sender"] == person(student)
    assert body["room"] == room.pk
    assert body["text"] == "hello"
    assert body["deleted"] is False


def test_client_id_is_per_sender(make_client, room, student, teacher):
    make_client(student).post(messages_url(room), {"text": "a", "client_id": "same"}, format="json")
    response = make_client(teacher).post(messages_url(room), {"text": "b", "client_id": "same"}, format="json")
    assert response.status_code == 201
    assert Message.objects.count() == 2


def test_client_id_reused_in_another_room_is_409(make_client, room, student, teacher):
    other = group_room(teacher, student)
    client = make_client(student)
    client.post(messages_url(room), {"text": "a", "client_id": "k"}, format="json")
    response = client.post(messages_url(other), {"text": "a", "client_id": "k"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "client_id_reused"


def test_send_validates_text(make_client, room, student):
    client = make_client(student)
    too_long = client.post(messages_url(room), {"text": "x" * 10_001, "client_id": "a"}, format="json")
    assert too_long.status_code == 400
    assert "text" in too_long.json()["fields"]
    empty = client.post(messages_url(room), {"text": "   ", "client_id": "b"}, format="json")
    assert empty.status_code == 400
    assert empty.json()["code"] == "text_required"
    assert client.post(messages_url(room), {"text": "x"}, format="json").status_code == 400
    exact = client.post(messages_url(room), {"text": "y" * 10_000, "client_id": "c"}, format="json")
    assert exact.status_code == 201


def test_non_member_cannot_send_or_read(make_client, room):
    outsider = make_client(StudentFactory())
    assert outsider.post(messages_url(room), {"text": "x", "client_id": "a"}, format="json").status_code == 404
    assert outsider.get(messages_url(room)).status_code == 404
    assert not Message.objects.exists()


def test_read_only_participant_reads_but_does_not_write(make_client, student, teacher, tutor):
    room = group_room(teacher, student, read_only=[tutor])
    message_post(sender=teacher, room_id=room.pk, text="hi", client_id="a")
    client = make_client(tutor)
    assert [m["text"] for m in client.get(messages_url(room)).json()["results"]] == ["hi"]
    response = client.post(messages_url(room), {"text": "x", "client_id": "b"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "room_read_only"


def test_history_cursor_pagination(make_client, room, student, teacher):
    ids = [message_post(sender=teacher, room_id=room.pk, text=str(n), client_id=str(n))[0].pk for n in range(7)]
    client = make_client(student)
    newest = client.get(messages_url(room), {"limit": 3}).json()
    assert [m["id"] for m in newest["results"]] == ids[4:]
    assert newest["has_more"] is True
    older = client.get(messages_url(room), {"limit": 3, "before": ids[4]}).json()
    assert [m["id"] for m in older["results"]] == ids[1:4]
    oldest = client.get(messages_url(room), {"limit": 3, "before": ids[1]}).json()
    assert [m["id"] for m in oldest["results"]] == ids[:1]
    assert oldest["has_more"] is False
    after = client.get(messages_url(room), {"limit": 4, "after": ids[1]}).json()
    assert [m["id"] for m in after["results"]] == ids[2:6]
    assert after["has_more"] is True
    window = client.get(messages_url(room), {"after": ids[1], "before": ids[4]}).json()
    assert [m["id"] for m in window["results"]] == ids[2:4]
    assert client.get(messages_url(room), {"limit": 101}).status_code == 400
    assert client.get(messages_url(room), {"after": "x"}).status_code == 400


def test_history_query_count_is_fixed(make_client, django_assert_num_queries, room, student, teacher):
    client = make_client(student)
    message_post(sender=teacher, room_id=room.pk, text="one", client_id="one")
    with django_assert_num_queries(3):
        assert len(client.get(messages_url(room)).json()["results"]) == 1
    for n in range(60):
        message_post(sender=(teacher, student)[n % 2], room_id=room.pk, text=str(n), client_id=str(n))
    system_message_post(room=room, text="notice")
    with django_assert_num_queries(3):  # senders come with the page (a join), whatever their number
        results = client.get(messages_url(room), {"limit": 50}).json()["results"]
    assert len(results) == 50
    assert {None, person(teacher)["name"], person(student)["name"]} == {
        m["sender"] and m["sender"]["name"] for m in results
    }


def test_message_of_a_deactivated_sender_still_renders(make_client, room, student, teacher):
    message_post(sender=teacher, room_id=room.pk, text="before leaving", client_id="bye")
    type(teacher).objects.filter(pk=teacher.pk).update(is_active=False)

    client = make_client(student)
    history = client.get(messages_url(room))
    rooms = client.get("/api/chat/rooms/")

    assert history.status_code == 200
    assert history.json()["results"][0]["sender"] == person(teacher)
    assert rooms.json()["results"][0]["last_message"]["sender"] == person(teacher)


def test_edit_and_delete_by_author_only(make_client, room, student, teacher):
    message, _ = message_post(sender=student, room_id=room.pk, text="typo", client_id="a")
    url = f"/api/chat/messages/{message.pk}/"
    assert make_client(teacher).patch(url, {"text": "hacked"}, format="json").status_code == 403
    assert make_client(StudentFactory()).patch(url, {"text": "x"}, format="json").status_code == 404
    client = make_client(student)
    edited = client.patch(url, {"text": "fixed"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["text"] == "fixed"
    assert edited.json()["edited_at"] is not None
    assert client.delete(url).status_code == 204
    history = client.get(messages_url(room)).json()["results"]
    assert [(m["id"], m["text"], m["deleted"]) for m in history] == [(message.pk, "", True)]
    assert client.patch(url, {"text": "again"}, format="json").status_code == 409
    assert client.delete(url).status_code == 204


def test_read_marker_moves_forward_only_and_drives_unread(make_client, room, student, teacher):
    ids = [message_post(sender=teacher, room_id=room.pk, text=str(n), client_id=str(n))[0].pk for n in range(5)]
    client = make_client(student)
    read_url = f"/api/chat/rooms/{room.pk}/read/"

    def unread() -> int:
        return client.get(f"/api/chat/rooms/{room.pk}/").json()["unread_count"]

    assert unread() == 5
    assert client.post(read_url, {"message_id": ids[3]}, format="json").json()["last_read_message_id"] == ids[3]
    assert unread() == 1
    backwards = client.post(read_url, {"message_id": ids[1]}, format="json")
    assert backwards.status_code == 200
    assert backwards.json()["last_read_message_id"] == ids[3]
    assert unread() == 1
    assert Participant.objects.get(room=room, user=student).last_read_message_id == ids[3]
    # The user's own messages never count as unread.
    message_post(sender=student, room_id=room.pk, text="mine", client_id="mine")
    assert unread() == 1
    other_room = group_room(teacher, student)
    foreign, _ = message_post(sender=teacher, room_id=other_room.pk, text="x", client_id="x")
    assert client.post(read_url, {"message_id": foreign.pk}, format="json").status_code == 400
    assert make_client(StudentFactory()).post(read_url, {"message_id": ids[4]}, format="json").status_code == 404


def test_rest_send_is_throttled_per_user(make_client, room, student, settings, time_machine):
    settings.CHAT_SEND_PER_SECOND = 3
    client = make_client(student)
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, 0, 100_000, tzinfo=UTC), tick=False)  # one second for all five
    responses = [client.post(messages_url(room), {"text": "x", "client_id": f"t{n}"}, format="json") for n in range(5)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429, 429]
    assert responses[3].json()["code"] == "throttled"
    assert responses[3]["Retry-After"] == "1"
    assert Message.objects.count() == 3

    time_machine.shift(1)  # the next second counts afresh
    assert client.post(messages_url(room), {"text": "x", "client_id": "t5"}, format="json").status_code == 201
    assert Message.objects.count() == 4


def test_attachment_is_checked_and_served_to_members_only(make_client, room, student, teacher):
    client = make_client(student)
    upload = SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/plain")
    response = client.post(messages_url(room), {"client_id": "f", "attachment": upload}, format="multipart")
    assert response.status_code == 201
    url = response.json()["attachment_url"]
    assert response.json()["attachment_name"] == "notes.txt"
    served = make_client(teacher).get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"plain notes\n"
    assert "attachment" in served["Content-Disposition"]
    assert make_client(StudentFactory()).get(url).status_code == 404
    fake = SimpleUploadedFile("evil.pdf", b"plain text pretending", content_type="application/pdf")
    rejected = client.post(messages_url(room), {"client_id": "g", "attachment": fake}, format="multipart")
    assert rejected.status_code == 400


def test_deleting_removes_attachment(make_client, room, student):
    client = make_client(student)
    upload = SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/plain")
    body = client.post(messages_url(room), {"client_id": "f", "attachment": upload}, format="multipart").json()
    assert client.delete(f"/api/chat/messages/{body['id']}/").status_code == 204
    assert client.get(body["attachment_url"]).status_code == 404
    assert Message.objects.get().attachment.name == ""


def test_other_teacher_sees_nothing(make_client, room):
    assert make_client(TeacherFactory()).get("/api/chat/rooms/").json()["count"] == 0
