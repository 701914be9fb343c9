"""Builders of billing tests: a tutor's family (one parent, two children, one teacher and subject), rates, lessons."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from invoices.models import LessonRate
from scheduling.models import Lesson, LessonStatus
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.materials.factories import EnrollmentFactory, SubjectFactory


def family(*, tutor=None, children: int = 2, price: str = "1000.00", valid_from: date = date(2026, 1, 1)):
    tutor = tutor or TutorFactory()
    parent = ParentFactory()
    teacher = TeacherFactory()
    subject = SubjectFactory()
    kids = [link_student(StudentFactory(), tutor=tutor, parent=parent) for _ in range(children)]
    enrollments = [EnrollmentFactory(student=kid, teacher=teacher, subject=subject) for kid in kids]
    rate = LessonRate.objects.create(
        teacher=teacher, subject=subject, price_per_hour=Decimal(price), currency="RUB", valid_from=valid_from
    )
    return SimpleNamespace(
        tutor=tutor, parent=parent, teacher=teacher, subject=subject, kids=kids, enrollments=enrollments, rate=rate
    )


def at(day: int, hour: int = 15, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def lesson(enrollment, start: datetime, *, minutes: int = 60, status=LessonStatus.COMPLETED, **fields) -> Lesson:
    return Lesson.objects.create(
        teacher=enrollment.teacher,
        student=enrollment.student,
        subject=enrollment.subject,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        **fields,
    )


def cancelled(enrollment, start: datetime, *, by, hours_before: float, **fields) -> Lesson:
    return lesson(
        enrollment,
        start,
        status=LessonStatus.CANCELLED,
        cancelled_by=by,
        cancelled_at=start - timedelta(hours=hours_before),
        **fields,
    )


OCTOBER = {"period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31)}
