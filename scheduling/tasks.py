"""Background jobs of scheduling (django-tasks; run by `manage.py run_worker`)."""

from django_tasks import task

from scheduling import reminders


@task()
def send_lesson_reminders() -> int:
    """Periodic (PERIODIC_JOBS["lesson_reminders"], below): record the reminders now due and enqueue their delivery."""
    return reminders.reminders_create_due(deliver=deliver_lesson_reminder.enqueue)


@task()
def deliver_lesson_reminder(reminder_id: int) -> bool:
    return reminders.deliver_lesson_reminder(reminder_id)


# Periodic jobs of scheduling, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {"lesson_reminders": {"task": send_lesson_reminders, "every": 60}}
