"""Django admin for the platform's plumbing: the periodic jobs' slots (the job rows themselves are
django-tasks-db's own read-only "Task results" page)."""

from datetime import UTC, datetime

from django.contrib import admin

from config.models import PeriodicRun


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin):
    """Which periodic job was enqueued for which time slot, and when. Written by the workers' scheduler only."""

    list_display = ["name", "slot_start", "enqueued_at"]
    list_filter = ["name"]
    search_fields = ["name"]
    ordering = ["-slot", "name"]
    date_hierarchy = "enqueued_at"
    fields = ["name", "slot", "slot_start", "enqueued_at"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="slot starts", ordering="slot")
    def slot_start(self, run: PeriodicRun) -> datetime:
        return datetime.fromtimestamp(run.slot, UTC)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
