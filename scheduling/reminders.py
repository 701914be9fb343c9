"""Lesson reminders: which are due, recorded once each (the periodic job's logic), and their delivery to the user
through notifications. The jobs that run both are in tasks.py, which passes the delivery job in: this module
imports no job."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.services import language_of, notify, preferences_of, reachable
from scheduling.locks import reminder_for_update
from scheduling.models import Lesson, LessonReminder, LessonStatus

logger = logging.getLogger("thebot.scheduling")


def reminder_lead() -> timedelta:
    return timedelta(minutes=settings.LESSON_REMINDER_MINUTES)


def reminders_create_due(*, deliver: Callable[[int], object], now: datetime | None = None) -> int:
    """Record a reminder for the student and the teacher (those notifications can reach, and who want it) of every
    scheduled lesson starting within the reminder lead, and enqueue its delivery (`deliver(reminder_id)`, the
    delivery job's enqueue) in the same transaction. The unique (lesson, user, lesson start) row makes a second or
    late run a no-op; returns how many were created."""
    now = now or timezone.now()
    lessons = list(
        Lesson.objects.filter(status=LessonStatus.SCHEDULED, start__gt=now, start__lte=now + reminder_lead())
        .select_related("teacher", "student")
        .order_by("start", "id")
    )
    already = set(LessonReminder.objects.filter(lesson__in=lessons).values_list("lesson_id", "user_id", "lesson_start"))
    # Everyone's preferences in one query (not one per recipient), whatever the number of lessons.
    recipients = [user for lesson in lessons for user in (lesson.student, lesson.teacher) if user.is_active]
    chosen = preferences_of(recipients) if recipients else {}
    created = 0
    for lesson in lessons:
        for user in (lesson.student, lesson.teacher):
            if not (user.is_active and reachable(user, event="lesson_reminder", chosen=chosen[user.pk])):
                continue
            if (lesson.pk, user.pk, lesson.start) in already:
                continue
            try:
                with transaction.atomic():
                    reminder = LessonReminder.objects.create(lesson=lesson, user=user, lesson_start=lesson.start)
                    deliver(reminder.pk)
            except IntegrityError:
                # Another worker recorded it between our read and our insert: it is theirs to deliver.
                continue
            created += 1
    if created:
        logger.info("lesson reminders enqueued", extra={"fields": {"count": created}})
    return created


def reminder_text(reminder: LessonReminder) -> str:
    """The reminder as the user reads it, with the time in their own time zone."""
    lesson = reminder.lesson
    tz = ZoneInfo(reminder.user.timezone)
    start = lesson.start.astimezone(tz)
    other = lesson.teacher if reminder.user.pk == lesson.student_id else lesson.student
    lines = [
        _("Reminder: %(subject)s with %(other)s on %(day)s at %(time)s (%(tz)s).")
        % {
            "subject": lesson.subject.name,
            "other": other.full_name,
            "day": f"{start:%a %d %b}",
            "time": f"{start:%H:%M}",
            "tz": reminder.user.timezone,
        }
    ]
    if lesson.topic:
        lines.append(_("Topic: %(topic)s") % {"topic": lesson.topic})
    if lesson.meeting_url:
        lines.append(_("Join: %(url)s") % {"url": lesson.meeting_url})
    return "\n".join(lines)


def deliver_lesson_reminder(reminder_id: int) -> bool:
    """Send one recorded reminder, at most once (row lock, `sent_at`); skip it if the lesson was cancelled or
    moved meanwhile (the moved lesson gets its own reminder). Returns whether it was sent.

    Sending is `notifications.services.notify`, called when this transaction commits; `sent_at` marks the
    hand-over, the channel's job retries on its own."""
    with transaction.atomic():
        reminder = reminder_for_update(reminder_id)
        if reminder.sent_at is not None or reminder.skipped_at is not None:
            return False
        lesson = reminder.lesson
        if lesson.status != LessonStatus.SCHEDULED or lesson.start != reminder.lesson_start:
            reminder.skipped_at = timezone.now()
            reminder.save(update_fields=["skipped_at"])
            return False
        user = reminder.user
        if not reachable(user, event="lesson_reminder"):  # unlinked or opted out since it was recorded
            reminder.skipped_at = timezone.now()
            reminder.save(update_fields=["skipped_at"])
            return False
        with translation.override(language_of(user)):
            text = reminder_text(reminder)
        key = f"lesson-reminder:{reminder.pk}"  # sent at most once, even if its job runs again
        transaction.on_commit(lambda: notify(user, event="lesson_reminder", text=text, dedupe_key=key))
        logger.info(
            "lesson reminder handed to notifications",
            extra={
                "fields": {"reminder": reminder.pk, "lesson": lesson.pk, "user": reminder.user_id, "chars": len(text)}
            },
        )
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
        return True
