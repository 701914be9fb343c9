"""Background jobs of invoices: the daily overdue sweep. (The parent's message of a sent invoice goes out through
notifications' send job: invoices.services.notices.)"""

from django_tasks import task

from invoices import services


@task()
def invoices_mark_overdue_job() -> int:
    """The daily sweep (PERIODIC_JOBS["invoices_mark_overdue"], below)."""
    return services.invoices_mark_overdue()


# Periodic jobs of invoices, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {"invoices_mark_overdue": {"task": invoices_mark_overdue_job, "every": 24 * 60 * 60}}
