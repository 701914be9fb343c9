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
