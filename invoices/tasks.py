"""Background jobs of invoices: the daily overdue sweep and the monthly billing run. (The parent's message of a sent
invoice goes out through notifications' send job: invoices.services.notices.)"""

from django.conf import settings
from django_tasks import task

from invoices import services
from invoices.services import billing


@task()
def invoices_mark_overdue_job() -> int:
    """The daily sweep (PERIODIC_JOBS["invoices_mark_overdue"], below)."""
    return services.invoices_mark_overdue()


@task()
def billing_monthly_run_job() -> int:
    """Bill the previous calendar month for every tutor (drafts only), when BILLING_MONTHLY_RUN is on. Checked each
    day; on the first of the month it runs. A second run the same day adds nothing (billing runs are idempotent)."""
    if not settings.BILLING_MONTHLY_RUN:
        return 0
    return billing.billing_run_every_tutor() if billing.first_of_month() else 0


# Periodic jobs of invoices, enqueued by the scheduler of `jobs` (jobs/scheduler.py): {name: {task, every seconds}}.
PERIODIC_JOBS = {
    "invoices_mark_overdue": {"task": invoices_mark_overdue_job, "every": 24 * 60 * 60},
    "billing_monthly_run": {"task": billing_monthly_run_job, "every": 24 * 60 * 60},
}
