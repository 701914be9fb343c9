"""Reads of scheduling: which lessons a user sees, and which scheduled lessons a slot would overlap."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from config.exceptions import NotFound
from enrollments.visibility import student_ids_of
from scheduling.models import Lesson, LessonStatus


def lessons_visible_to(user: User) -> QuerySet[Lesson]:
    """The lessons `user` may see, with teacher, student and subject loaded: a teacher sees the lessons they
    teach, everyone else the lessons of their students (a student: their own), an admin all."""
    lessons = Lesson.objects.select_related("teacher", "student", "subject")
    if user.is_admin:
        return lessons
    if user.role == Role.TEACHER:
        return lessons.filter(teacher=user)
    return lessons.filter(student__in=student_ids_of(user))


def access_lesson(user: User, lesson_id: int, *, for_update: bool = False) -> Lesson:
    """The lesson if `user` may see it; a foreign lesson answers exactly like a missing one (404 `not_found`).
    With `for_update`, its row is locked (inside the caller's transaction)."""
    lessons = lessons_visible_to(user)
    if for_update:
        lessons = lessons.select_for_update(of=("self",))
    lesson = lessons.filter(pk=lesson_id).first()
    if lesson is None:
        raise NotFound("No such lesson.")
    return lesson


def overlapping_lessons(
    *,
    teacher_id: int,
    student_id: int,
    slots: Iterable[tuple[datetime, datetime]],
    exclude_pk: int | None = None,
) -> list[Lesson]:
    """Scheduled lessons of the teacher or of the student that overlap any of the half-open `slots`."""
    slots = list(slots)
    overlap = Q()
    for start, end in slots:
        overlap |= Q(start__lt=end, end__gt=start)
    lessons = Lesson.objects.filter(
        Q(teacher_id=teacher_id) | Q(student_id=student_id),
        overlap,
        status=LessonStatus.SCHEDULED,
        # A coarse bound first, so that the indexes on (teacher, start) and (student, start) serve the query.
        start__lt=max(end for _, end in slots),
        end__gt=min(start for start, _ in slots),
    )
    if exclude_pk is not None:
        lessons = lessons.exclude(pk=exclude_pk)
    return list(lessons.order_by("start", "id"))


def calendar_lessons_for(user: User, *, since: datetime, limit: int) -> list[Lesson]:
    """The lessons of `user`'s calendar feed (whatever their status) ending after `since`, oldest first."""
    return list(lessons_visible_to(user).filter(end__gt=since).order_by("start", "id")[:limit])
