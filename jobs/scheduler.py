"""The periodic scheduler: enqueues each app's periodic jobs once per time slot, whatever the number of workers.

Each app declares its periodic jobs beside its tasks, in its `tasks.py`:

    PERIODIC_JOBS = {"lesson_reminders": {"task": send_lesson_reminders, "every": 60}}

(`task` a django-tasks task, `every` seconds; names unique across apps). `periodic_jobs()` collects them from the
project's installed apps. Every worker runs `schedule_due()` in a loop; a `PeriodicRun` row per slot makes each slot
enqueue once, and a worker that was down catches up with the current slot only.
"""

import functools
import importlib
import logging
import time
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from jobs.models import JobEffect, PeriodicRun

logger = logging.getLogger("thebot.jobs")


@functools.cache
def periodic_jobs() -> dict[str, dict]:
    """Every project app's `tasks.PERIODIC_JOBS`, merged: {name: {"task": task, "every": seconds}}.

    Only the project's own apps (folders at the top of BASE_DIR) are looked at: a third-party `tasks` module is never
    imported."""
    base = Path(settings.BASE_DIR).resolve()
    collected: dict[str, dict] = {}
    for app_config in apps.get_app_configs():
        if Path(app_config.path).resolve().parent != base:
            continue
        if not module_has_submodule(app_config.module, "tasks"):
            continue
        declared = getattr(importlib.import_module(f"{app_config.name}.tasks"), "PERIODIC_JOBS", {})
        for name, spec in declared.items():
            if name in collected:
                raise ImproperlyConfigured(f"periodic job {name!r} is declared by two apps")
            if int(spec["every"]) <= 0 or not callable(getattr(spec["task"], "enqueue", None)):
                raise ImproperlyConfigured(f"periodic job {name!r} needs a task and a positive 'every'")
            collected[name] = {"task": spec["task"], "every": int(spec["every"])}
    return collected


def schedule_due(now: float | None = None, *, jobs: dict[str, dict] | None = None) -> list[str]:
    """Enqueue every periodic job (`jobs`, default all apps' `PERIODIC_JOBS`) whose current slot has not been
    enqueued yet; returns their names."""
    now = time.time() if now is None else now
    enqueued = []
    for name, spec in (periodic_jobs() if jobs is None else jobs).items():
        every = int(spec["every"])
        slot = int(now // every) * every
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=name, slot=slot)
                spec["task"].enqueue()
        except IntegrityError:
            continue
        enqueued.append(name)
        logger.info("periodic job enqueued", extra={"fields": {"job": name, "slot": slot}})
    return enqueued


def prune_periodic_runs(keep: timedelta = timedelta(days=7)) -> int:
    """Forget slots and recorded effects older than `keep` (run hourly by every worker's scheduler thread)."""
    deleted, _ = PeriodicRun.objects.filter(enqueued_at__lt=timezone.now() - keep).delete()
    effects, _ = JobEffect.objects.filter(recorded_at__lt=timezone.now() - keep).delete()
    return deleted + effects
