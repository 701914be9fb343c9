"""Row locks of scheduling, always taken in primary-key order."""

from scheduling.models import Lesson, LessonReminder


def lesson_for_update(pk: int) -> Lesson:
    """Lock one lesson for a status change or a reschedule (the caller holds the transaction)."""
    return Lesson.objects.select_for_update(of=("self",)).select_related("teacher", "student", "subject").get(pk=pk)


def reminder_for_update(pk: int) -> LessonReminder:
    return (
        LessonReminder.objects.select_for_update(of=("self",))
        .select_related("user", "lesson__teacher", "lesson__student", "lesson__subject")
        .get(pk=pk)
    )
