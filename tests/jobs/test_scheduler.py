"""The periodic scheduler: each slot enqueued once, and every app's `PERIODIC_JOBS` collected from its tasks.py."""

import pytest
from django_tasks_db.models import DBTaskResult

from accounts.tasks import tokens_prune_expired_job
from invoices.tasks import billing_monthly_run_job, invoices_mark_overdue_job
from jobs.models import PeriodicRun
from jobs.scheduler import periodic_jobs, schedule_due
from scheduling.tasks import send_lesson_reminders


@pytest.mark.django_db
def test_each_periodic_slot_is_enqueued_once():
    jobs = {"prune": {"task": tokens_prune_expired_job, "every": 3600}}
    slot_start = 1_800_000_000 // 3600 * 3600

    assert schedule_due(now=slot_start + 5, jobs=jobs) == ["prune"]
    assert schedule_due(now=slot_start + 3599, jobs=jobs) == []
    assert schedule_due(now=slot_start + 3600, jobs=jobs) == ["prune"]

    assert PeriodicRun.objects.filter(name="prune").count() == 2
    assert DBTaskResult.objects.count() == 2


def test_the_schedule_is_collected_from_the_apps_tasks():
    """Each app declares its periodic jobs beside its tasks; the scheduler finds every one of them, and no other."""
    assert periodic_jobs() == {
        "accounts_prune_expired_tokens": {"task": tokens_prune_expired_job, "every": 60 * 60},
        "lesson_reminders": {"task": send_lesson_reminders, "every": 60},
        "invoices_mark_overdue": {"task": invoices_mark_overdue_job, "every": 24 * 60 * 60},
        "billing_monthly_run": {"task": billing_monthly_run_job, "every": 24 * 60 * 60},
    }
