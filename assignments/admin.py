from django.contrib import admin

from accounts.admin import RoleUsersMixin, ViewOnlyMixin, role_filter
from accounts.models import Role
from assignments.models import (
    Assignment,
    AssignmentAttachment,
    GradeHistory,
    Submission,
    SubmissionAttempt,
    SubmissionFile,
)

# What a submission's `__str__` reads, from a submission and from an attempt.
SUBMISSION_JOINS = ["student", "assignment"]
ATTEMPT_JOINS = [f"submission__{join}" for join in SUBMISSION_JOINS]


class AttachmentInline(admin.TabularInline):
    model = AssignmentAttachment
    extra = 0
    fields = ["name", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    def has_add_permission(self, request, obj=None):
        return False  # files go up through the API, which types them by content


@admin.register(Assignment)
class AssignmentAdmin(RoleUsersMixin, admin.ModelAdmin):
    list_display = ["id", "title", "subject", "teacher", "status", "due_at", "allow_late", "max_score"]
    list_filter = ["status", "allow_late", "subject", role_filter("teacher", Role.TEACHER, "teacher")]
    search_fields = ["title", "teacher__email", "teacher__last_name"]
    list_select_related = ["subject", "teacher"]
    raw_id_fields = ["teacher", "students"]
    user_field_roles = {"teacher": Role.TEACHER, "students": Role.STUDENT}
    date_hierarchy = "due_at"
    readonly_fields = ["published_at", "created_at", "updated_at"]
    inlines = [AttachmentInline]
    list_per_page = 50
    show_full_result_count = False


class AttemptInline(admin.TabularInline):
    model = SubmissionAttempt
    extra = 0
    fields = ["number", "text", "submitted_at", "is_late"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*ATTEMPT_JOINS)

    def has_add_permission(self, request, obj=None):
        return False


class GradeHistoryInline(admin.TabularInline):
    model = GradeHistory
    extra = 0
    fields = ["attempt", "action", "score", "max_score", "feedback", "by", "at"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Read mostly: grades are changed through the API's services, which keep the history."""

    list_display = ["id", "assignment", "student", "status", "attempt", "submitted_at", "is_late", "score"]
    list_filter = ["status", "is_late", "assignment__subject"]
    search_fields = ["student__email", "student__last_name", "assignment__title"]
    list_select_related = SUBMISSION_JOINS
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
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*SUBMISSION_JOINS, "graded_by")

    def has_add_permission(self, request):
        return False


@admin.register(SubmissionFile)
class SubmissionFileAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "content_type", "size", "attempt", "created_at"]
    fields = ["attempt", "file", "name", "content_type", "size", "created_at"]
    readonly_fields = fields
    list_select_related = [f"attempt__{join}" for join in ATTEMPT_JOINS]
    search_fields = ["name", "attempt__submission__student__email", "attempt__submission__assignment__title"]
    list_filter = ["content_type"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*(f"attempt__{join}" for join in ATTEMPT_JOINS))

    def has_add_permission(self, request):
        return False


@admin.register(GradeHistory)
class GradeHistoryAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Every grade and return, as `assignments.history` wrote it: read-only."""

    list_display = ["id", "submission", "attempt", "action", "score", "max_score", "by", "at"]
    list_select_related = ["by", *(f"submission__{join}" for join in SUBMISSION_JOINS)]
    list_filter = ["action", role_filter("by", Role.TEACHER, "graded by (teachers only)")]
    search_fields = ["submission__student__email", "submission__student__last_name", "submission__assignment__title"]
    date_hierarchy = "at"
    fields = ["submission", "attempt", "action", "score", "max_score", "feedback", "by", "at"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by", *(f"submission__{join}" for join in SUBMISSION_JOINS))

    def has_delete_permission(self, request, obj=None):
        return False
