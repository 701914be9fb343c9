"""Which reminders are due, recorded once each: the periodic job's logic (see tasks.send_lesson_reminders)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling.models import Lesson, LessonReminder, LessonStatus

logger = logging.getLogger("thebot.scheduling")


def reminder_lead() -> timedelta:
    return timedelta(minutes=settings.LESSON_REMINDER_MINUTES)


def reminders_create_due(*, now: datetime | None = None) -> int:
    """Record a reminder for the student and the teacher (those who linked Telegram) of every scheduled lesson
    starting within the reminder lead, and enqueue its delivery in the same transaction. The unique
    (lesson, user, lesson start) row makes a second or late run a no-op; returns how many were created."""
    from scheduling.tasks import deliver_lesson_reminder

    now = now or timezone.now()
    lessons = list(
        Lesson.objects.filter(status=LessonStatus.SCHEDULED, start__gt=now, start__lte=now + reminder_lead())
        .select_related("teacher", "student")
        .order_by("start", "id")
    )
    already = set(LessonReminder.objects.filter(lesson__in=lessons).values_list("lesson_id", "user_id", "lesson_start"))
    created = 0
    for lesson in lessons:
        for user in (lesson.student, lesson.teacher):
            if user.telegram_chat_id is None or not user.is_active:
                continue
            if (lesson.pk, user.pk, lesson.start) in already:
                continue
            try:
                with transaction.atomic():
                    reminder = LessonReminder.objects.create(lesson=lesson, user=user, lesson_start=lesson.start)
                    deliver_lesson_reminder.enqueue(reminder.pk)
            except IntegrityError:
                # Another worker recorded it between our read and our insert: it is theirs to deliver.
                continue
            created += 1
    if created:
        logger.info("lesson reminders enqueued", extra={"fields": {"count": created}})
    return created
