"""Periodic background jobs on top of django-tasks.

Apps declare periodic jobs in `settings.PERIODIC_TASKS` as `{name: {"task": "app.tasks.func", "every": seconds}}`.
Every worker runs `schedule_due()` in a loop; a `PeriodicRun` row per slot makes each slot enqueue once,
whatever the number of workers, and a worker that was down catches up with the current slot only.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from config.models import PeriodicRun

logger = logging.getLogger("thebot.jobs")


def schedule_due(now: float | None = None) -> list[str]:
    """Enqueue every periodic job whose current slot has not been enqueued yet; returns their names."""
    now = time.time() if now is None else now
    enqueued = []
    for name, spec in settings.PERIODIC_TASKS.items():
        every = int(spec["every"])
        slot = int(now // every) * every
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=name, slot=slot)
                import_string(spec["task"]).enqueue()
        except IntegrityError:
            continue
        enqueued.append(name)
        logger.info("periodic job enqueued", extra={"fields": {"job": name, "slot": slot}})
    return enqueued


def prune_periodic_runs(keep: timedelta = timedelta(days=7)) -> int:
    deleted, _ = PeriodicRun.objects.filter(enqueued_at__lt=timezone.now() - keep).delete()
    return deleted
