from django.contrib import admin

from assignments.models import (
    Assignment,
    AssignmentAttachment,
    GradeHistory,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
)


class AttachmentInline(admin.TabularInline):
    model = AssignmentAttachment
    extra = 0
    fields = ["name", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "subject", "teacher", "status", "due_at", "allow_late", "max_score"]
    list_filter = ["status", "allow_late", "subject"]
    search_fields = ["title", "teacher__email", "teacher__last_name"]
    list_select_related = ["subject", "teacher"]
    raw_id_fields = ["teacher", "students"]
    date_hierarchy = "due_at"
    readonly_fields = ["published_at", "created_at", "updated_at"]
    inlines = [AttachmentInline]


class AttemptInline(admin.TabularInline):
    model = SubmissionAttempt
    extra = 0
    fields = ["number", "text", "submitted_at", "is_late"]
    readonly_fields = fields
    can_delete = False


class GradeHistoryInline(admin.TabularInline):
    model = GradeHistory
    extra = 0
    fields = ["attempt", "action", "score", "max_score", "feedback", "by", "at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Read mostly: grades are changed through the API's services, which keep the history."""

    list_display = ["id", "assignment", "student", "status", "attempt", "submitted_at", "is_late", "score"]
    list_filter = ["status", "is_late"]
    search_fields = ["student__email", "student__last_name", "assignment__title"]
    list_select_related = ["assignment", "student"]
    readonly_fields = [
        "assignment",
        "student",
        "status",
        "attempt",
        "submitted_at",
        "is_late",
        "score",
        "feedback",
        "graded_by",
        "graded_at",
        "created_at",
        "updated_at",
    ]
    inlines = [AttemptInline, GradeHistoryInline]

    def has_add_permission(self, request):
        return False


@admin.register(SubmissionFile)
class SubmissionFileAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "content_type", "size", "attempt", "created_at"]
    readonly_fields = ["attempt", "file", "name", "content_type", "size", "created_at"]
    list_select_related = ["attempt"]

    def has_add_permission(self, request):
        return False
