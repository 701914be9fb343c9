"""Delivery of lesson reminders: the one place that sends them to the user."""

import logging
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from invoices.tasks import telegram_send_message
from scheduling.locks import reminder_for_update
from scheduling.models import LessonReminder, LessonStatus

logger = logging.getLogger("thebot.scheduling")


def reminder_text(reminder: LessonReminder) -> str:
    """The reminder as the user reads it, with the time in their own time zone."""
    lesson = reminder.lesson
    tz = ZoneInfo(reminder.user.timezone)
    start = lesson.start.astimezone(tz)
    other = lesson.teacher if reminder.user.pk == lesson.student_id else lesson.student
    lines = [
        f"Reminder: {lesson.subject.name} with {other.full_name} "
        f"on {start:%a %d %b} at {start:%H:%M} ({reminder.user.timezone})."
    ]
    if lesson.topic:
        lines.append(f"Topic: {lesson.topic}")
    if lesson.meeting_url:
        lines.append(f"Join: {lesson.meeting_url}")
    return "\n".join(lines)


def deliver_lesson_reminder(reminder_id: int) -> bool:
    """Send one recorded reminder, at most once (row lock, `sent_at`); skip it if the lesson was cancelled or
    moved meanwhile (the moved lesson gets its own reminder). Returns whether it was sent.

    Sending goes through the platform's Telegram job (`invoices.tasks.telegram_send_message`), enqueued when this
    transaction commits; `sent_at` marks the hand-over, the job retries on its own."""
    with transaction.atomic():
        reminder = reminder_for_update(reminder_id)
        if reminder.sent_at is not None or reminder.skipped_at is not None:
            return False
        lesson = reminder.lesson
        if lesson.status != LessonStatus.SCHEDULED or lesson.start != reminder.lesson_start:
            reminder.skipped_at = timezone.now()
            reminder.save(update_fields=["skipped_at"])
            return False
        chat_id = reminder.user.telegram_chat_id
        if chat_id is None:  # unlinked since the reminder was recorded
            reminder.skipped_at = timezone.now()
            reminder.save(update_fields=["skipped_at"])
            return False
        text = reminder_text(reminder)
        key = f"lesson-reminder:{reminder.pk}"  # sent at most once, even if its job runs again
        transaction.on_commit(lambda: telegram_send_message.enqueue(chat_id, text, key=key))
        logger.info(
            "lesson reminder handed to telegram",
            extra={
                "fields": {"reminder": reminder.pk, "lesson": lesson.pk, "user": reminder.user_id, "chars": len(text)}
            },
        )
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
        return True
