"""Publishing an assignment posts a system message in each receiving student's subject room."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignments.models import AssignmentStatus
from chat.models import ChatRoom, Message
from chat.selectors import subject_room_for
from tests.assignments.factories import AssignmentFactory, class_of


@pytest.mark.django_db(transaction=True)  # rooms are made, and the notice posted, after commit
def test_publishing_posts_a_system_message_in_each_subject_room(make_client):
    teacher, subject, students = class_of(3)
    outsider_teacher, _, outsiders = class_of(1, subject=subject)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)

    response = make_client(teacher).post(f"/api/assignments/{assignment.pk}/publish/")

    assert response.status_code == 200, response.content
    for student in students:
        room = subject_room_for(student.pk, teacher.pk, subject.pk)
        notice = Message.objects.get(room=room)
        assert notice.sender is None
        assert assignment.title in notice.text
        history = make_client(student).get(f"/api/chat/rooms/{room.pk}/messages/").json()
        assert [item["text"] for item in history["results"]] == [notice.text]
    other_room = subject_room_for(outsiders[0].pk, outsider_teacher.pk, subject.pk)
    assert not Message.objects.filter(room=other_room).exists()


@pytest.mark.django_db(transaction=True)
def test_re_opening_a_closed_assignment_posts_nothing_new(make_client):
    teacher, subject, students = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None)
    client = make_client(teacher)
    client.post(f"/api/assignments/{assignment.pk}/publish/")
    client.post(f"/api/assignments/{assignment.pk}/close/")
    client.post(f"/api/assignments/{assignment.pk}/publish/")
    room = subject_room_for(students[0].pk, teacher.pk, subject.pk)
    assert Message.objects.filter(room=room).count() == 1


@pytest.mark.django_db(transaction=True)
def test_publishing_costs_the_same_queries_for_a_small_and_a_large_class(make_client):
    """The notices are one locking read, one insert and one update of the rooms, not a few statements a student
    (a class of 30 made publishing a ~100-query request)."""
    counts = {}
    for size in (2, 12):
        teacher, subject, students = class_of(size)
        assignment = AssignmentFactory(
            teacher=teacher, subject=subject, status=AssignmentStatus.DRAFT, published_at=None
        )
        client = make_client(teacher)
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/api/assignments/{assignment.pk}/publish/")
        assert response.status_code == 200, response.content
        counts[size] = len(captured.captured_queries)
        rooms = ChatRoom.objects.filter(pk__in=[subject_room_for(s.pk, teacher.pk, subject.pk).pk for s in students])
        for room in rooms.select_related("last_message"):
            assert room.last_message.sender is None and assignment.title in room.last_message.text
            assert room.last_activity_at == room.last_message.created_at
    assert counts[2] == counts[12], counts
