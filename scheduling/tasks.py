"""Background jobs of scheduling (django-tasks; run by `manage.py run_worker`)."""

from django_tasks import task

from scheduling import notifications, reminders


@task()
def send_lesson_reminders() -> int:
    """Periodic (PERIODIC_JOBS["lesson_reminders"], below): record and enqueue the reminders now due."""
    return reminders.reminders_create_due()


@task()
def deliver_lesson_reminder(reminder_id: int) -> bool:
    return notifications.deliver_lesson_reminder(reminder_id)


# Periodic jobs of scheduling, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {"lesson_reminders": {"task": send_lesson_reminders, "every": 60}}
