"""Reads of the jobs' bookkeeping for other layers (readiness in config/health.py)."""

from datetime import datetime

from django.db.models import Max

from jobs.models import WorkerHeartbeat


def newest_worker_beat() -> datetime | None:
    """When the most recently beating worker last beat; None when no worker has a heartbeat row."""
    return WorkerHeartbeat.objects.aggregate(newest=Max("beat_at"))["newest"]
