from django import forms
from django.contrib import admin

from accounts.admin import RoleUsersMixin, ViewOnlyMixin, role_filter
from accounts.models import Role
from scheduling.models import CalendarFeed, Lesson, LessonReminder, LessonStatus
from scheduling.selectors import overlapping_lessons


class LessonAdminForm(forms.ModelForm):
    """The admin bypasses the services, so it repeats their overlap check (PostgreSQL also has the constraint)."""

    meeting_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Lesson
        fields = [
            "teacher",
            "student",
            "subject",
            "start",
            "end",
            "status",
            "topic",
            "meeting_url",
            "notes",
            "cancel_reason",
            "cancelled_at",
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        teacher, student = data.get("teacher"), data.get("student")
        if not (start and end and teacher and student) or data.get("status") != LessonStatus.SCHEDULED:
            return data
        if end <= start:
            raise forms.ValidationError("A lesson ends after it starts.")
        conflicts = overlapping_lessons(
            teacher_id=teacher.pk, student_id=student.pk, slots=[(start, end)], exclude_pk=self.instance.pk
        )
        if conflicts:
            raise forms.ValidationError(
                "Overlaps lesson(s): "
                + ", ".join(f"{lesson.pk} ({lesson.start:%Y-%m-%d %H:%M})" for lesson in conflicts)
            )
        return data


LESSON_JOINS = ["teacher", "student", "subject"]  # what a lesson's `__str__` reads


@admin.register(Lesson)
class LessonAdmin(RoleUsersMixin, admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["id", "start", "end", "status", "teacher", "student", "subject", "topic"]
    list_filter = [
        "status",
        ("start", admin.DateFieldListFilter),
        role_filter("teacher", Role.TEACHER, "teacher"),
        "subject",
    ]
    list_select_related = LESSON_JOINS
    search_fields = ["topic", "teacher__email", "teacher__last_name", "student__email", "student__last_name"]
    date_hierarchy = "start"
    raw_id_fields = ["teacher", "student"]
    user_field_roles = {"teacher": Role.TEACHER, "student": Role.STUDENT}
    # Set by the services when a lesson is created or cancelled.
    readonly_fields = ["created_by", "cancelled_by", "series_id", "created_at", "updated_at"]
    ordering = ["-start"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*LESSON_JOINS, "created_by", "cancelled_by")


@admin.register(LessonReminder)
class LessonReminderAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The record of reminders sent (or skipped), written by the reminder job: read-only."""

    list_display = ["id", "lesson", "user", "lesson_start", "created_at", "sent_at", "skipped_at"]
    list_select_related = ["user", *(f"lesson__{join}" for join in LESSON_JOINS)]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), ("skipped_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "user__last_name"]
    fields = ["lesson", "user", "lesson_start", "created_at", "sent_at", "skipped_at"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", *(f"lesson__{join}" for join in LESSON_JOINS))


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Whose calendar feed exists and when it was rotated. Read-only: the secret URL is derived from the nonce
    and SECRET_KEY and only its hash is stored, so neither is shown; deleting a row turns the feed off (its
    owner gets a new URL from `GET /api/scheduling/calendar/`)."""

    list_display = ["user", "created_at", "rotated_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_filter = ["user__role", ("rotated_at", admin.EmptyFieldListFilter)]
    fields = ["user", "created_at", "rotated_at"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")
