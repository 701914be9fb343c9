from django.contrib import admin
from django.db import models

from accounts.admin import RoleUsersMixin, UnlabelledRawIdMixin, role_filter
from accounts.models import Role
from core.caching import ENROLLMENTS, SUBJECTS, InvalidatingAdminMixin
from enrollments.models import Enrollment, Subject
from materials.models import Material, MaterialProgress, MaterialRecipient
from materials.services import enrollment_written_on_commit


@admin.register(Subject)
class SubjectAdmin(InvalidatingAdminMixin, admin.ModelAdmin):
    cache_scopes = (SUBJECTS,)
    list_display = ["id", "name"]
    search_fields = ["name"]
    ordering = ["name"]


@admin.register(Enrollment)
class EnrollmentAdmin(InvalidatingAdminMixin, RoleUsersMixin, admin.ModelAdmin):
    cache_scopes = (ENROLLMENTS,)
    list_display = ["id", "student", "subject", "teacher", "is_active", "started_at", "ended_at"]
    list_select_related = ["student", "subject", "teacher"]
    list_filter = ["is_active", "subject", role_filter("teacher", Role.TEACHER)]
    search_fields = [
        "student__email",
        "student__first_name",
        "student__last_name",
        "teacher__email",
        "teacher__last_name",
        "subject__name",
    ]
    autocomplete_fields = ["student", "subject", "teacher"]
    user_field_roles = {"student": Role.STUDENT, "teacher": Role.TEACHER}
    date_hierarchy = "started_at"
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student", "subject", "teacher")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        enrollment_written_on_commit(obj)  # the student's chat rooms follow, as after the API's writes


class MaterialRecipientInline(UnlabelledRawIdMixin, RoleUsersMixin, admin.TabularInline):
    """The students a material names. Each row's title names the student (loaded with the rows); new ones are
    added by user id."""

    model = MaterialRecipient
    extra = 0
    raw_id_fields = ["student"]
    user_field_roles = {"student": Role.STUDENT}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student", "material")


class MaterialProgressInline(UnlabelledRawIdMixin, RoleUsersMixin, admin.TabularInline):
    """Each student's progress; students move it through the API, the author resets it there (an admin may
    correct it here). Rows are titled with the student (loaded with the rows)."""

    model = MaterialProgress
    extra = 0
    raw_id_fields = ["student"]
    user_field_roles = {"student": Role.STUDENT}
    fields = ["student", "percent", "time_spent_seconds", "last_opened_at", "completed_at"]
    readonly_fields = ["last_opened_at", "completed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student", "material")


@admin.register(Material)
class MaterialAdmin(RoleUsersMixin, admin.ModelAdmin):
    list_display = ["id", "title", "subject", "author", "kind", "status", "created_at"]
    list_select_related = ["subject", "author"]
    list_filter = ["status", "kind", "subject", role_filter("author", Role.TEACHER, "author (teachers only)")]
    search_fields = ["title", "description", "author__email", "author__last_name"]
    autocomplete_fields = ["subject", "author"]
    user_field_roles = {"author": Role.TEACHER}
    readonly_fields = ["file_name", "created_at", "updated_at"]
    inlines = [MaterialRecipientInline, MaterialProgressInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subject", "author")


@admin.register(MaterialProgress)
class MaterialProgressAdmin(RoleUsersMixin, admin.ModelAdmin):
    list_display = ["id", "student", "material", "percent", "time_spent_seconds", "completed_at", "updated_at"]
    list_select_related = ["student", "material"]
    list_filter = [("completed_at", admin.EmptyFieldListFilter), "material__subject"]
    search_fields = ["student__email", "student__last_name", "material__title"]
    autocomplete_fields = ["student", "material"]
    user_field_roles = {"student": Role.STUDENT}
    readonly_fields = ["last_opened_at", "completed_at", "updated_at"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student", "material")
