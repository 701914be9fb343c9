"""Factories for users of every role. Profiles are created by the manager, as in production."""

import factory

from accounts.models import Role, User
from people.services import student_links, student_links_changed_on_commit

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.STUDENT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        password = kwargs.pop("password", DEFAULT_PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class StudentFactory(UserFactory):
    role = Role.STUDENT


class TeacherFactory(UserFactory):
    role = Role.TEACHER


class TutorFactory(UserFactory):
    role = Role.TUTOR


class ParentFactory(UserFactory):
    role = Role.PARENT


class AdminFactory(UserFactory):
    role = Role.ADMIN


def link_student(student: User, *, tutor: User | None = None, parent: User | None = None) -> User:
    """Set a student's links as every write of them does: saved, then chat told after the commit
    (`people.services.student_links_changed_on_commit`; told even when `student` was loaded before a change made
    elsewhere, so that the rooms follow what is stored)."""
    profile = student.student_profile
    before = student_links(profile)
    if tutor is not None:
        profile.tutor = tutor
    if parent is not None:
        profile.parent = parent
    profile.save()
    student_links_changed_on_commit(student.pk, links_before=before)
    return student
