"""Publishing an assignment posts a system message in each receiving student's subject room."""

import pytest

from assignments.models import AssignmentStatus
from chat.models import Message
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
