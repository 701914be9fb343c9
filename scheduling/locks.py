"""Locks of scheduling, always taken in primary-key order."""

from django.db import connection

from scheduling.models import Lesson, LessonReminder

# The first key of our transaction-level advisory locks on people's timetables (the second is the user's id).
TIMETABLE_LOCK = 7301


def timetables_locked(*user_ids: int) -> None:
    """Serialize the check-then-write of lessons per person (the caller holds the transaction): one advisory
    lock per teacher and student, in id order. Without it two overlapping inserts on PostgreSQL could both pass
    the check and then wait on each other in the two exclusion constraints (teacher's and student's), which
    PostgreSQL ends as a deadlock (an error, not the 409) instead of one insert failing cleanly. SQLite needs
    nothing: its write transactions begin IMMEDIATE and already run one at a time."""
    if connection.vendor != "postgresql":
        return
    ids = sorted(set(user_ids))
    locks = ", ".join("pg_advisory_xact_lock(%s, %s)" for _ in ids)  # evaluated left to right: in id order
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", [value for user_id in ids for value in (TIMETABLE_LOCK, user_id)])


def lesson_for_update(pk: int) -> Lesson:
    """Lock one lesson for a status change or a reschedule (the caller holds the transaction)."""
    return Lesson.objects.select_for_update(of=("self",)).select_related("teacher", "student", "subject").get(pk=pk)


def reminder_for_update(pk: int) -> LessonReminder:
    return (
        LessonReminder.objects.select_for_update(of=("self",))
        .select_related("user", "lesson__teacher", "lesson__student", "lesson__subject")
        .get(pk=pk)
    )
