"""Writes of scheduling: schedule (one lesson or a weekly series), reschedule and edit, status changes.

No double booking: the check below runs in the same transaction as the write. On SQLite that transaction begins
IMMEDIATE (settings), so concurrent check-then-insert sequences serialize; on PostgreSQL two requests may both
pass the check, and the exclusion constraints of migration 0002 reject the second insert, which is answered with
the same 409 as the check.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from core.updating import model_update
from enrollments.models import Enrollment, Subject
from enrollments.visibility import is_student_of, students_of
from scheduling.errors import SchedulingConflict, SchedulingError, SchedulingErrorCode, SchedulingForbidden
from scheduling.locks import lesson_for_update, timetables_locked
from scheduling.models import STUDENT_OVERLAP_CONSTRAINT, TEACHER_OVERLAP_CONSTRAINT, Lesson, LessonStatus
from scheduling.selectors import lessons_visible_to, overlapping_lessons

MIN_DURATION = timedelta(minutes=15)
MAX_DURATION = timedelta(hours=4)
MAX_SERIES = 52

Slot = tuple[datetime, datetime]


def weekly_slots(*, start: datetime, end: datetime, count: int, tz: ZoneInfo) -> list[Slot]:
    """`count` weekly slots at the wall-clock time of `start` in `tz` (17:00 stays 17:00 local across a
    daylight-saving change), each as long as the first. A wall time that does not exist on a day clocks jump
    is read with the offset before the jump, as zoneinfo does."""
    duration = end - start
    slots = []
    try:
        wall = start.astimezone(tz).replace(tzinfo=None)
        for week in range(count):
            local = (wall + timedelta(weeks=week)).replace(tzinfo=tz)
            slot_start = local.astimezone(UTC)
            slots.append((slot_start, slot_start + duration))
    except OverflowError:
        # Only past the bounds of config.parsing (a start those bounds admit never gets here): no such date.
        raise SchedulingError(
            "The series would end after the last date the platform can store.", fields={"start": ["Too late."]}
        ) from None
    return slots


def _check_times(start: datetime, end: datetime, *, new_start: bool = True) -> None:
    if end <= start:
        raise SchedulingError(
            "A lesson ends after it starts.",
            SchedulingErrorCode.INVALID_DURATION,
            fields={"end": ["Must be after start."]},
        )
    if not MIN_DURATION <= end - start <= MAX_DURATION:
        raise SchedulingError(
            "A lesson lasts between 15 minutes and 4 hours.",
            SchedulingErrorCode.INVALID_DURATION,
            fields={"end": ["A lesson lasts between 15 minutes and 4 hours."]},
        )
    if new_start and start < timezone.now():
        raise SchedulingError(
            "A lesson cannot start in the past.", SchedulingErrorCode.START_IN_PAST, fields={"start": ["In the past."]}
        )


def _iso(value: datetime) -> str:
    """As the API writes a datetime (DRF's ISO 8601: the current time zone, UTC as `Z`)."""
    text = timezone.localtime(value).isoformat()
    return f"{text[:-6]}Z" if text.endswith("+00:00") else text


def _conflict_error(slots: list[Slot], conflicts: list[Lesson], tz: ZoneInfo, actor: User) -> SchedulingConflict:
    """The 409 for overlapping `slots`, telling `actor` nothing about lessons they may not see.

    A lesson the actor may see (`lessons_visible_to`: their own, their students') is named in full. A lesson they may
    not see (the teacher's lesson with another family, the student's lesson with another teacher) is reported only as
    a conflict at the requested time, with `lesson: null`; and only the first such slot is reported, so a weekly
    series tells no more about others' timetables than a single booking would (no year of someone's week mapped
    through one request)."""
    ids = {lesson.pk for lesson in conflicts}
    visible = ids if actor.is_admin else set(lessons_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    items, hidden_reported = [], False
    for start, end in slots:
        overlapping = [lesson for lesson in conflicts if lesson.start < end and lesson.end > start]
        slot = {"date": start.astimezone(tz).date().isoformat(), "start": _iso(start), "end": _iso(end)}
        for lesson in overlapping:
            if lesson.pk in visible:
                items.append(
                    {**slot, "lesson": {"id": lesson.pk, "start": _iso(lesson.start), "end": _iso(lesson.end)}}
                )
        if not hidden_reported and any(lesson.pk not in visible for lesson in overlapping):
            items.append({**slot, "lesson": None})
            hidden_reported = True
    first = items[0]["lesson"]
    if len(slots) > 1:
        dates = ", ".join(sorted({item["date"] for item in items}))
        detail = f"Nothing was scheduled: lessons on {dates} overlap existing lessons."
    elif first is not None:
        detail = f"The time overlaps lesson {first['id']} ({first['start']} to {first['end']})."
    else:
        detail = "The time overlaps another lesson of the teacher or the student."
    return SchedulingConflict(detail, SchedulingErrorCode.LESSON_CONFLICT, extra={"conflicts": items})


def _is_overlap_violation(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in {TEACHER_OVERLAP_CONSTRAINT, STUDENT_OVERLAP_CONSTRAINT}


def _write_without_overlap(
    *,
    actor: User,
    teacher: User,
    student_id: int,
    slots: list[Slot],
    exclude_pk: int | None,
    write: Callable[[], object],
):
    """Check the slots against the scheduled lessons of the teacher and the student, then `write`, in one
    transaction; any overlap, found by the check or by the database, is a 409 listing every conflict."""
    tz = ZoneInfo(teacher.timezone)
    try:
        with transaction.atomic():
            timetables_locked(teacher.pk, student_id)
            conflicts = overlapping_lessons(
                teacher_id=teacher.pk, student_id=student_id, slots=slots, exclude_pk=exclude_pk
            )
            if conflicts:
                raise _conflict_error(slots, conflicts, tz, actor)
            return write()
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        # The competing transaction has committed by now (the constraint waited for it): name its lesson.
        conflicts = overlapping_lessons(
            teacher_id=teacher.pk, student_id=student_id, slots=slots, exclude_pk=exclude_pk
        )
        if not conflicts:
            raise
        raise _conflict_error(slots, conflicts, tz, actor) from error


def _resolve_participants(*, actor: User, student_id: int, teacher_id: int | None, subject_id: int):
    """Who may schedule whom: a teacher their students enrolled with them in the subject, a tutor their
    students with a teacher who teaches them the subject, an admin anyone; students and parents nobody (the
    view's role gate, views.CanSchedule, stops them; without a role here, nobody is found)."""
    if actor.role == Role.TEACHER and not actor.is_admin:
        if teacher_id not in (None, actor.pk):
            raise SchedulingForbidden("Teachers schedule their own lessons.")
        teacher_id = actor.pk
    if teacher_id is None:
        raise SchedulingError("Name the teacher.", fields={"teacher": ["This field is required."]})
    student = students_of(actor).filter(pk=student_id, is_active=True).first()
    if student is None:
        raise SchedulingError(
            "Unknown student.", SchedulingErrorCode.UNKNOWN_STUDENT, fields={"student": ["Unknown student."]}
        )
    subject = Subject.objects.filter(pk=subject_id).first()
    if subject is None:
        raise SchedulingError(
            "Unknown subject.", SchedulingErrorCode.UNKNOWN_SUBJECT, fields={"subject": ["Unknown subject."]}
        )
    if actor.is_admin:
        teacher = User.objects.filter(pk=teacher_id, role=Role.TEACHER, is_active=True).first()
        if teacher is None:
            raise SchedulingError(
                "Unknown teacher.", SchedulingErrorCode.UNKNOWN_TEACHER, fields={"teacher": ["Unknown teacher."]}
            )
        return teacher, student, subject
    enrollment = (
        Enrollment.objects.filter(
            student=student, subject=subject, teacher_id=teacher_id, is_active=True, teacher__is_active=True
        )
        .select_related("teacher")
        .first()
    )
    if enrollment is None:
        raise SchedulingError(
            "The student is not enrolled with this teacher in this subject.",
            SchedulingErrorCode.NOT_ENROLLED,
            fields={"student": ["Not enrolled with this teacher in this subject."]},
        )
    return enrollment.teacher, student, subject


def lesson_schedule(
    *,
    actor: User,
    student_id: int,
    subject_id: int,
    start: datetime,
    end: datetime,
    teacher_id: int | None = None,
    topic: str = "",
    meeting_url: str = "",
    notes: str = "",
    repeat_weekly: int | None = None,
) -> list[Lesson]:
    """Schedule one lesson, or `repeat_weekly` weekly lessons (all or none); returns them in order."""
    teacher, student, subject = _resolve_participants(
        actor=actor, student_id=student_id, teacher_id=teacher_id, subject_id=subject_id
    )
    _check_times(start, end)
    count = repeat_weekly or 1
    if not 1 <= count <= MAX_SERIES:
        raise SchedulingError("A series has 2 to 52 lessons.", fields={"repeat_weekly": ["Between 2 and 52."]})
    slots = weekly_slots(start=start, end=end, count=count, tz=ZoneInfo(teacher.timezone))
    series_id = uuid.uuid4() if count > 1 else None
    lessons = [
        Lesson(
            teacher=teacher,
            student=student,
            subject=subject,
            start=slot_start,
            end=slot_end,
            topic=topic,
            meeting_url=meeting_url,
            notes=notes,
            created_by=actor,
            series_id=series_id,
        )
        for slot_start, slot_end in slots
    ]

    return _write_without_overlap(
        actor=actor,
        teacher=teacher,
        student_id=student.pk,
        slots=slots,
        exclude_pk=None,
        write=lambda: Lesson.objects.bulk_create(lessons),
    )


def check_can_manage_lesson(
    actor: User, lesson: Lesson, message: str = "Only the teacher, the tutor or an administrator edits a lesson."
) -> None:
    """The lesson's teacher, the student's tutor and admins manage a lesson (reschedule, edit, cancel); anyone
    else is refused (403) with `message`."""
    if actor.is_admin or actor.pk == lesson.teacher_id:
        return
    if actor.role == Role.TUTOR and is_student_of(actor, lesson.student_id):
        return
    raise SchedulingForbidden(message)


def _require_scheduled(lesson: Lesson, action: str) -> None:
    if lesson.status != LessonStatus.SCHEDULED:
        raise SchedulingConflict(
            f"A {lesson.get_status_display().lower()} lesson cannot be {action}.",
            SchedulingErrorCode.INVALID_TRANSITION,
        )


# What an edit may change (LessonUpdateSerializer's fields).
UPDATABLE_FIELDS = ("start", "end", "topic", "meeting_url", "notes")


def lesson_update(*, actor: User, lesson_id: int, changes: dict) -> Lesson:
    """Edit topic, meeting URL and notes; a change of `start`/`end` reschedules a scheduled lesson and is
    checked for overlaps again (a moved lesson is reminded again at its new time). Who may not edit is refused
    whatever the changes, none included."""
    if not changes:
        lesson = Lesson.objects.select_related("teacher", "student", "subject").get(pk=lesson_id)
        check_can_manage_lesson(actor, lesson)
        return lesson
    with transaction.atomic():
        lesson = lesson_for_update(lesson_id)
        check_can_manage_lesson(actor, lesson)
        start, end = changes.get("start", lesson.start), changes.get("end", lesson.end)
        moved = start != lesson.start or end != lesson.end
        if moved:
            _require_scheduled(lesson, "rescheduled")
            # A lesson under way may still be lengthened; only a new start must lie ahead.
            _check_times(start, end, new_start=start != lesson.start)
        model_update(lesson, changes, fields=UPDATABLE_FIELDS, save=False)
        if not moved:
            lesson.save()
            return lesson
        return _write_without_overlap(
            actor=actor,
            teacher=lesson.teacher,
            student_id=lesson.student_id,
            slots=[(start, end)],
            exclude_pk=lesson.pk,
            write=lambda: lesson.save() or lesson,
        )


def lesson_cancel(*, actor: User, lesson_id: int, reason: str, accept_charge: bool = False) -> Lesson:
    """Cancel a scheduled lesson, freeing its slot: the teacher, the tutor, an admin, or the student
    themself up to BILLING_CANCELLATION_NOTICE_HOURS (24) before the start; later only with `accept_charge`, as the
    lesson is then billed as a late cancellation (invoices' billing policy)."""
    with transaction.atomic():
        lesson = lesson_for_update(lesson_id)
        is_own_student = actor.pk == lesson.student_id
        if not is_own_student:
            check_can_manage_lesson(actor, lesson, "You may not cancel this lesson.")
        _require_scheduled(lesson, "cancelled")
        now = timezone.now()
        notice = timedelta(hours=settings.BILLING_CANCELLATION_NOTICE_HOURS)
        if is_own_student and not actor.is_admin and now > lesson.start - notice and not accept_charge:
            raise SchedulingConflict(
                f"Less than {settings.BILLING_CANCELLATION_NOTICE_HOURS} hours before the start a cancellation is "
                "billed: cancel with accept_charge true, or ask your teacher or tutor.",
                SchedulingErrorCode.CANCEL_TOO_LATE,
            )
        lesson.status = LessonStatus.CANCELLED
        lesson.cancel_reason = reason
        lesson.cancelled_at = now
        lesson.cancelled_by = actor
        lesson.save(update_fields=["status", "cancel_reason", "cancelled_at", "cancelled_by", "updated_at"])
        return lesson


def _lesson_close(*, actor: User, lesson_id: int, status: LessonStatus, action: str) -> Lesson:
    with transaction.atomic():
        lesson = lesson_for_update(lesson_id)
        if actor.pk != lesson.teacher_id:
            raise SchedulingForbidden(f"Only the lesson's teacher marks it {action}.")
        _require_scheduled(lesson, f"marked {action}")
        if timezone.now() < lesson.start:
            raise SchedulingConflict(
                f"A lesson is marked {action} only after it has started.", SchedulingErrorCode.LESSON_NOT_STARTED
            )
        lesson.status = status
        lesson.save(update_fields=["status", "updated_at"])
        return lesson


def lesson_complete(*, actor: User, lesson_id: int) -> Lesson:
    """The teacher marks a started lesson completed."""
    return _lesson_close(actor=actor, lesson_id=lesson_id, status=LessonStatus.COMPLETED, action="completed")


def lesson_mark_no_show(*, actor: User, lesson_id: int) -> Lesson:
    """The teacher marks a started lesson as missed by the student."""
    return _lesson_close(actor=actor, lesson_id=lesson_id, status=LessonStatus.NO_SHOW, action="no-show")
