from django.contrib import admin
from django.db import models

from materials.models import Enrollment, Material, MaterialProgress, MaterialRecipient, Subject


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name"]
    search_fields = ["name"]
    ordering = ["name"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["id", "student", "subject", "teacher", "is_active", "started_at", "ended_at"]
    list_select_related = ["student", "subject", "teacher"]
    list_filter = ["is_active", "subject"]
    search_fields = ["student__email", "student__last_name", "teacher__email", "teacher__last_name", "subject__name"]
    autocomplete_fields = ["student", "subject", "teacher"]
    date_hierarchy = "started_at"
    list_per_page = 50
    show_full_result_count = False


class MaterialRecipientInline(admin.TabularInline):
    model = MaterialRecipient
    extra = 0
    autocomplete_fields = ["student"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student")


class MaterialProgressInline(admin.TabularInline):
    model = MaterialProgress
    extra = 0
    autocomplete_fields = ["student"]
    fields = ["student", "percent", "time_spent_seconds", "last_opened_at", "completed_at"]
    readonly_fields = ["last_opened_at", "completed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student")


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "subject", "author", "kind", "status", "created_at"]
    list_select_related = ["subject", "author"]
    list_filter = ["status", "kind", "subject"]
    search_fields = ["title", "description", "author__email", "author__last_name"]
    autocomplete_fields = ["subject", "author"]
    readonly_fields = ["file_name", "created_at", "updated_at"]
    inlines = [MaterialRecipientInline, MaterialProgressInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False


@admin.register(MaterialProgress)
class MaterialProgressAdmin(admin.ModelAdmin):
    list_display = ["id", "student", "material", "percent", "time_spent_seconds", "completed_at", "updated_at"]
    list_select_related = ["student", "material"]
    search_fields = ["student__email", "material__title"]
    autocomplete_fields = ["student", "material"]
    readonly_fields = ["last_opened_at", "completed_at", "updated_at"]
    list_per_page = 50
    show_full_result_count = False
