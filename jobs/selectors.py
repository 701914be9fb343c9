"""Reads of the jobs' bookkeeping for other layers (readiness in config/health.py)."""

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from jobs.models import WorkerHeartbeat


def newest_worker_beat() -> datetime | None:
    """When the most recently beating worker last beat; None when no worker has a heartbeat row."""
    return WorkerHeartbeat.objects.aggregate(newest=Max("beat_at"))["newest"]


def worker_alive_on(host: str, *, max_age_seconds: int) -> bool:
    """Whether a `run_worker` of `host` (its rows are named `<host>-<pid>-<random>`) beat within `max_age_seconds`."""
    since = timezone.now() - timedelta(seconds=max_age_seconds)
    return WorkerHeartbeat.objects.filter(worker_id__startswith=f"{host}-", beat_at__gte=since).exists()
