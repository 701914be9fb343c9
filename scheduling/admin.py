from django import forms
from django.contrib import admin

from scheduling.models import Lesson, LessonReminder, LessonStatus
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
            "cancelled_by",
            "created_by",
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


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["id", "start", "end", "status", "teacher", "student", "subject", "topic"]
    list_filter = ["status", ("start", admin.DateFieldListFilter), "teacher", "subject"]
    list_select_related = ["teacher", "student", "subject"]
    search_fields = ["topic", "teacher__email", "student__email"]
    date_hierarchy = "start"
    raw_id_fields = ["teacher", "student", "created_by", "cancelled_by"]
    readonly_fields = ["series_id", "created_at", "updated_at"]
    ordering = ["-start"]


@admin.register(LessonReminder)
class LessonReminderAdmin(admin.ModelAdmin):
    list_display = ["id", "lesson", "user", "lesson_start", "created_at", "sent_at", "skipped_at"]
    list_select_related = ["lesson", "user"]
    raw_id_fields = ["lesson", "user"]
    readonly_fields = ["lesson", "user", "lesson_start", "created_at", "sent_at", "skipped_at"]
