"""Factories for assignments: assignments and hand-ins (subjects and enrollments: tests/materials/factories.py)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from assignments import services
from assignments.models import Assignment, AssignmentStatus
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import EnrollmentFactory, SubjectFactory


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A published assignment for the teacher's whole class, due in a week."""

    class Meta:
        model = Assignment
        skip_postgeneration_save = True

    teacher = factory.SubFactory(TeacherFactory)
    subject = factory.SubFactory(SubjectFactory)
    title = factory.Sequence(lambda n: f"Homework {n}")
    description = "Solve the exercises."
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    max_score = Decimal("10.00")
    status = AssignmentStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def students(self, create, extracted, **kwargs):
        if create and extracted:
            self.students.set(extracted)


def class_of(n: int, *, teacher=None, subject=None):
    """A teacher, a subject and `n` students actively enrolled with them."""
    teacher = teacher or TeacherFactory()
    subject = subject or SubjectFactory()
    students = [StudentFactory() for _ in range(n)]
    for student in students:
        EnrollmentFactory(student=student, teacher=teacher, subject=subject)
    return teacher, subject, students


def hand_in(assignment, student, text: str = "My answer", **kwargs):
    return services.submission_submit(assignment=assignment, student=student, text=text, **kwargs)


def grade(submission, score, by=None, feedback: str = ""):
    return services.submission_grade(
        submission=submission, by=by or submission.assignment.teacher, score=Decimal(score), feedback=feedback
    )
