"""Factories and small builders for chat tests."""

import factory

from chat.models import ChatRoom, Participant, RoomKind
from enrollments.models import Enrollment
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import SubjectFactory


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    teacher = factory.SubFactory(TeacherFactory)
    subject = factory.SubFactory(SubjectFactory)


def group_room(*users, name: str = "Group", read_only=()) -> ChatRoom:
    """A group room of `users` (and read-only `read_only` users), built directly for tests."""
    room = ChatRoom.objects.create(kind=RoomKind.GROUP, name=name, created_by=users[0] if users else None)
    for user in users:
        Participant.objects.create(room=room, user=user)
    for user in read_only:
        Participant.objects.create(room=room, user=user, read_only=True)
    return room
