"""Factories and small builders for chat tests."""

import factory

from chat.models import ChatRoom, Participant, RoomKind
from materials.models import Enrollment
from materials.services import enrollment_written_on_commit
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import SubjectFactory


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment
        skip_postgeneration_save = True

    student = factory.SubFactory(StudentFactory)
    teacher = factory.SubFactory(TeacherFactory)
    subject = factory.SubFactory(SubjectFactory)

    @factory.post_generation
    def rooms(enrollment, create, extracted, **kwargs):
        """As every write of an enrollment does: chat makes the student's rooms after the commit."""
        if create:
            enrollment_written_on_commit(enrollment)


def group_room(*users, name: str = "Group", read_only=()) -> ChatRoom:
    """A group room of `users` (and read-only `read_only` users), built directly for tests."""
    room = ChatRoom.objects.create(kind=RoomKind.GROUP, name=name, created_by=users[0] if users else None)
    for user in users:
        Participant.objects.create(room=room, user=user)
    for user in read_only:
        Participant.objects.create(room=room, user=user, read_only=True)
    return room
