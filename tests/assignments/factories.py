"""Factories for assignments: subjects, enrollments (created directly), assignments and hand-ins."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assignments import services
from assignments.models import Assignment, AssignmentStatus
from materials.models import Enrollment
from materials.services import enrollment_written_on_commit
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import SubjectFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def enroll(student, teacher, subject, *, is_active: bool = True) -> Enrollment:
    """An enrollment as every write of one makes it: the row, then chat's rooms after the commit."""
    enrollment = Enrollment.objects.create(student=student, teacher=teacher, subject=subject, is_active=is_active)
    enrollment_written_on_commit(enrollment)
    return enrollment


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
        enroll(student, teacher, subject)
    return teacher, subject, students


def pdf(name: str = "work.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def hand_in(assignment, student, text: str = "My answer", **kwargs):
    return services.submission_submit(assignment=assignment, student=student, text=text, **kwargs)


def grade(submission, score, by=None, feedback: str = ""):
    return services.submission_grade(
        submission=submission, by=by or submission.assignment.teacher, score=Decimal(score), feedback=feedback
    )
