"""Factories of the materials app."""

import factory

from enrollments.models import Enrollment, Subject
from materials.models import Material, MaterialKind, MaterialProgress, MaterialStatus
from materials.services import enrollment_written_on_commit
from tests.accounts.factories import StudentFactory, TeacherFactory


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    name = factory.Sequence(lambda n: f"Subject {n}")
    description = "A subject."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment
        skip_postgeneration_save = True

    student = factory.SubFactory(StudentFactory)
    subject = factory.SubFactory(SubjectFactory)
    teacher = factory.SubFactory(TeacherFactory)
    is_active = True

    @factory.post_generation
    def rooms(enrollment, create, extracted, **kwargs):
        """As every write of an enrollment does: chat makes the student's rooms after the commit."""
        if create:
            enrollment_written_on_commit(enrollment)


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Material {n}")
    description = "About it."
    content = "Body."
    kind = MaterialKind.LESSON
    status = MaterialStatus.PUBLISHED
    subject = factory.SubFactory(SubjectFactory)
    author = factory.SubFactory(TeacherFactory)

    @factory.post_generation
    def assigned_to(self, create, students, **kwargs):
        if create and students:
            self.assigned_to.set(students)


class MaterialProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialProgress

    student = factory.SubFactory(StudentFactory)
    material = factory.SubFactory(MaterialFactory)
    percent = 0
