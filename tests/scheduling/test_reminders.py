"""Lesson reminders: recorded once per lesson, user and start, delivered once, run by the worker."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from notifications.models import NotificationPreference
from scheduling.models import LessonReminder, LessonStatus
from scheduling.reminders import deliver_lesson_reminder, reminder_text
from scheduling.tasks import send_lesson_reminders
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson

DELIVER = "scheduling.tasks.deliver_lesson_reminder"


@pytest.fixture
def linked(enrollment):
    enrollment.student.telegram_chat_id = 1001
    enrollment.student.timezone = "Asia/Tokyo"
    enrollment.student.save()
    enrollment.teacher.telegram_chat_id = 1002
    enrollment.teacher.save()
    return enrollment


def reminders_create_due() -> int:
    """The periodic job's work, run here and now (it enqueues the deliveries as the worker would)."""
    return send_lesson_reminders.call()


def run_worker():
    call_command("run_worker", batch=True, no_scheduler=True)


@pytest.mark.django_db(transaction=True)  # the worker manages its own connection
def test_job_twice_reminds_each_recipient_once(linked):
    lesson = make_lesson(linked, start=in_hours(0.5))
    send_lesson_reminders.enqueue()
    send_lesson_reminders.enqueue()
    run_worker()
    reminders = LessonReminder.objects.filter(lesson=lesson)
    assert sorted(reminders.values_list("user_id", flat=True)) == sorted([linked.student_id, linked.teacher_id])
    assert all(reminder.sent_at is not None for reminder in reminders)
    assert DBTaskResult.objects.filter(task_path=DELIVER).count() == 2
    # And later runs (the job every minute until the start) change nothing.
    assert reminders_create_due() == 0
    assert DBTaskResult.objects.filter(task_path=DELIVER).count() == 2


@pytest.mark.django_db
def test_only_due_scheduled_lessons_and_linked_users(linked, student, settings):
    settings.LESSON_REMINDER_MINUTES = 60
    due = make_lesson(linked, start=in_hours(0.9))
    make_lesson(linked, start=in_hours(2))  # not yet
    make_lesson(linked, start=in_hours(-0.5))  # already started: too late for a reminder
    make_lesson(linked, start=in_hours(0.2), minutes=15, status=LessonStatus.CANCELLED)
    linked.teacher.telegram_chat_id = None
    linked.teacher.save()
    # Unlinked from Telegram, and lesson reminders by email turned off: nothing reaches the teacher.
    NotificationPreference.objects.create(user=linked.teacher, event="lesson_reminder", telegram=True, email=False)
    assert reminders_create_due() == 1
    assert list(LessonReminder.objects.values_list("lesson_id", "user_id")) == [(due.pk, student.pk)]


@pytest.mark.django_db
def test_the_lead_is_a_setting(linked, settings):
    make_lesson(linked, start=in_hours(1.5))
    assert reminders_create_due() == 0
    settings.LESSON_REMINDER_MINUTES = 120
    assert reminders_create_due() == 2


@pytest.mark.django_db(transaction=True)  # the worker manages its own connection
def test_a_rescheduled_lesson_is_reminded_again(linked):
    lesson = make_lesson(linked, start=in_hours(0.5))
    assert reminders_create_due() == 2
    run_worker()
    lesson.start += timedelta(minutes=15)
    lesson.end += timedelta(minutes=15)
    lesson.save()
    assert reminders_create_due() == 2
    run_worker()
    assert LessonReminder.objects.filter(sent_at__isnull=False).count() == 4


@pytest.mark.django_db
def test_delivery_is_once_and_skips_a_cancelled_lesson(linked):
    lesson = make_lesson(linked, start=in_hours(0.5))
    reminders_create_due()
    first, second = LessonReminder.objects.order_by("pk")
    assert deliver_lesson_reminder(first.pk) is True
    assert deliver_lesson_reminder(first.pk) is False
    lesson.status = LessonStatus.CANCELLED
    lesson.save()
    assert deliver_lesson_reminder(second.pk) is False
    second.refresh_from_db()
    assert second.sent_at is None and second.skipped_at is not None


@pytest.mark.django_db
def test_text_is_in_the_recipients_time_zone(linked, settings):
    settings.LESSON_REMINDER_MINUTES = 120
    start = in_hours(1)
    make_lesson(linked, start=start, topic="Vectors")
    reminders_create_due()
    text = reminder_text(LessonReminder.objects.get(user=linked.student))
    assert f"{start.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M} (Asia/Tokyo)" in text
    assert linked.subject.name in text and linked.teacher.full_name in text and "Vectors" in text
    text = reminder_text(LessonReminder.objects.get(user=linked.teacher))
    assert f"{start:%H:%M} (UTC)" in text and linked.student.full_name in text


@pytest.mark.django_db(transaction=True)  # the worker manages its own connection
def test_the_worker_schedules_the_periodic_job(linked):
    make_lesson(linked, start=in_hours(0.5))
    call_command("run_worker", batch=True)  # with its scheduler: enqueues this minute's slot, then runs it
    assert DBTaskResult.objects.filter(task_path="scheduling.tasks.send_lesson_reminders").count() == 1
    assert LessonReminder.objects.filter(sent_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)  # the worker manages its own connection
def test_reminders_reach_the_telegram_bot_api(linked, fake_telegram):
    make_lesson(linked, start=in_hours(0.5))
    send_lesson_reminders.enqueue()
    run_worker()  # records the reminders, hands them to the Telegram job, which sends them
    run_worker()
    sent = fake_telegram.sent
    assert sorted(message["chat_id"] for message in sent) == [1001, 1002]
    student_text = next(message["text"] for message in sent if message["chat_id"] == 1001)
    assert "Asia/Tokyo" in student_text
    assert linked.subject.name in student_text


def _due_lessons(count: int) -> list:
    """`count` due lessons, each of its own student and teacher (so `2 * count` recipients), one of whom turned
    lesson reminders off by email."""
    lessons = [make_lesson(EnrollmentFactory(), start=in_hours(0.5)) for _ in range(count)]
    NotificationPreference.objects.create(user=lessons[0].teacher, event="lesson_reminder", telegram=True, email=False)
    return lessons


# Reading (lessons, the reminders already recorded, every recipient's preferences), then per reminder created:
# a savepoint, its row, its delivery job's row, the savepoint released.
READS = 3
PER_REMINDER = 4


@pytest.mark.parametrize("count", [1, 5])
@pytest.mark.django_db
def test_recording_reads_preferences_once_whatever_the_number_of_reminders(count, django_assert_num_queries, settings):
    settings.EMAIL_NOTIFICATIONS = True
    _due_lessons(count)
    expected = 2 * count - 1  # everyone reachable by email, but the teacher who turned it off
    with django_assert_num_queries(READS + PER_REMINDER * expected):
        assert reminders_create_due() == expected
    # A later run records nothing: the same few reads, whatever the number of lessons and recipients.
    with django_assert_num_queries(READS):
        assert reminders_create_due() == 0
