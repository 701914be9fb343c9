from datetime import UTC, datetime

from django.db import models


class PeriodicRun(models.Model):
    """One row per periodic job and time slot: the first worker to insert it enqueues the job, so any
    number of workers together enqueue each slot exactly once."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField(help_text="Seconds since the epoch at the start of the slot.")
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "periodic job run"
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_run_once_per_slot")]

    def __str__(self) -> str:
        return f"{self.name} at {datetime.fromtimestamp(self.slot, UTC):%Y-%m-%d %H:%M %Z}"


class WorkerHeartbeat(models.Model):
    """One row per running `manage.py run_worker` process, touched every WORKER_HEARTBEAT_SECONDS.

    `job_id` names the job the worker runs now: that job's lease. A RUNNING job whose worker's row has not been
    touched for WORKER_LEASE_SECONDS is taken back by any other worker (jobs/worker.py `reclaim_expired`).
    Readiness reads the freshest `beat_at` when READINESS_EXPECT_WORKER is on."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    beat_at = models.DateTimeField(db_index=True)
    job_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "worker heartbeat"

    def __str__(self) -> str:
        return self.worker_id


class JobEffect(models.Model):
    """An external effect a job is about to cause (a Telegram message), recorded and committed before it is
    caused, under a unique key: a job re-run after its worker died finds the row and does not cause it again."""

    key = models.CharField(max_length=200, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "job effect"

    def __str__(self) -> str:
        return self.key
