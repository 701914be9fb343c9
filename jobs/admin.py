"""Django admin for the platform's plumbing: the periodic jobs' slots, the workers' heartbeats (their leases) and the
jobs' recorded external effects, all read-only (the job rows themselves are django-tasks-db's own read-only "Task
results" page)."""

from datetime import UTC, datetime

from django.contrib import admin

from jobs.models import JobEffect, PeriodicRun, WorkerHeartbeat


class _WrittenByWorkers(admin.ModelAdmin):
    """Rows only the workers write: looked up here, never added, edited or deleted."""

    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PeriodicRun)
class PeriodicRunAdmin(_WrittenByWorkers):
    """Which periodic job was enqueued for which time slot, and when. Written by the workers' scheduler only."""

    list_display = ["name", "slot_start", "enqueued_at"]
    list_filter = ["name"]
    search_fields = ["name"]
    ordering = ["-slot", "name"]
    date_hierarchy = "enqueued_at"
    fields = ["name", "slot", "slot_start", "enqueued_at"]
    readonly_fields = fields

    @admin.display(description="slot starts", ordering="slot")
    def slot_start(self, run: PeriodicRun) -> datetime:
        return datetime.fromtimestamp(run.slot, UTC)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(_WrittenByWorkers):
    """Each worker process's last beat and the job it holds (its lease; docs/operations.md "Processes")."""

    list_display = ["worker_id", "beat_at", "job_id"]
    search_fields = ["worker_id", "job_id"]
    ordering = ["-beat_at"]
    fields = list_display
    readonly_fields = fields


@admin.register(JobEffect)
class JobEffectAdmin(_WrittenByWorkers):
    """External effects recorded before they were caused (a Telegram message per key): a re-run job skips them."""

    list_display = ["key", "recorded_at"]
    search_fields = ["key"]
    ordering = ["-recorded_at"]
    date_hierarchy = "recorded_at"
    fields = list_display
    readonly_fields = fields
