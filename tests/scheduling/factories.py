"""Builders of scheduling tests: lessons (enrollments and subjects come from tests/materials/factories.py)."""

from datetime import datetime, timedelta

from django.utils import timezone

from enrollments.models import Enrollment
from scheduling.models import Lesson, LessonStatus


def in_hours(hours: float) -> datetime:
    """A whole minute `hours` from now (UTC)."""
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def make_lesson(enrollment: Enrollment, *, start: datetime, minutes: int = 60, **fields) -> Lesson:
    """A lesson written straight to the database (also in the past), bypassing the service's checks."""
    fields.setdefault("status", LessonStatus.SCHEDULED)
    return Lesson.objects.create(
        teacher=enrollment.teacher,
        student=enrollment.student,
        subject=enrollment.subject,
        start=start,
        end=start + timedelta(minutes=minutes),
        **fields,
    )
