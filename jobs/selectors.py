"""Reads of the jobs' bookkeeping for other layers (readiness in config/health.py, metrics in
config/metrics_view.py)."""

from datetime import datetime, timedelta

from django.db.models import Case, Count, F, Max, Min, When
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs.models import WorkerHeartbeat


def newest_worker_beat() -> datetime | None:
    """When the most recently beating worker last beat; None when no worker has a heartbeat row."""
    return WorkerHeartbeat.objects.aggregate(newest=Max("beat_at"))["newest"]


def worker_alive_on(host: str, *, max_age_seconds: int) -> bool:
    """Whether a `run_worker` of `host` (its rows are named `<host>-<pid>-<random>`) beat within `max_age_seconds`."""
    since = timezone.now() - timedelta(seconds=max_age_seconds)
    return WorkerHeartbeat.objects.filter(worker_id__startswith=f"{host}-", beat_at__gte=since).exists()


def ready_queue_stats() -> list[tuple[str, int, datetime]]:
    """Per queue with ready jobs (due and not yet claimed): (queue name, how many, since when the oldest has been
    waiting: its `run_after` when it had one, else when it was enqueued). One query."""
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    rows = (
        DBTaskResult.objects.ready()
        .order_by()
        .values("queue_name")
        .annotate(depth=Count("id"), oldest=Min(due_since))
        .values_list("queue_name", "depth", "oldest")
    )
    return list(rows)
