"""Background jobs of invoices: the daily overdue sweep. (The parent's message of a sent invoice goes out through
notifications' send job: invoices.services.notices.)"""

from django_tasks import task

from invoices import services


@task()
def invoices_mark_overdue_job() -> int:
    """The daily sweep (PERIODIC_TASKS["invoices_mark_overdue"])."""
    return services.invoices_mark_overdue()
