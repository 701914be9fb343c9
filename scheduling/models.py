"""Lessons, the secret calendar feed of each user, and the record of reminders sent."""

from django.conf import settings
from django.db import models


class LessonStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No show"


# Created by migration 0002 on PostgreSQL only (see there): two scheduled lessons of one teacher, or of one
# student, never overlap. The services turn their violation into the same 409 as their own check.
TEACHER_OVERLAP_CONSTRAINT = "lesson_teacher_no_overlap"
STUDENT_OVERLAP_CONSTRAINT = "lesson_student_no_overlap"


class Lesson(models.Model):
    """One lesson of a student with a teacher in a subject; `start`/`end` are stored in UTC."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teaching_lessons")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lessons")
    subject = models.ForeignKey("enrollments.Subject", on_delete=models.PROTECT, related_name="lessons")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=LessonStatus.choices, default=LessonStatus.SCHEDULED)
    topic = models.CharField(max_length=200, blank=True)
    meeting_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(max_length=5000, blank=True)
    cancel_reason = models.TextField(max_length=1000, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Lessons created together by one `repeat_weekly` request share it.
    series_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="lesson_ends_after_start"),
            models.CheckConstraint(condition=models.Q(status__in=LessonStatus.values), name="lesson_status_valid"),
        ]
        indexes = [
            models.Index(fields=["teacher", "start"], name="lesson_teacher_start"),
            models.Index(fields=["student", "start"], name="lesson_student_start"),
            models.Index(fields=["status", "start"], name="lesson_status_start"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.subject} with {self.teacher.full_name} for {self.student.full_name}, {self.start:%Y-%m-%d %H:%M %Z}"
        )


class CalendarFeed(models.Model):
    """A user's secret iCalendar feed. The secret is derived from `nonce` and the SECRET_KEY, so the database
    alone never reveals it; only its SHA-256 is stored, and a feed request finds the row by that hash."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    nonce = models.CharField(max_length=64)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user.full_name}"


class LessonReminder(models.Model):
    """A reminder of one lesson to one user. Unique per lesson, user and lesson start: a job that runs twice
    or late reminds once, and a rescheduled lesson is reminded again."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_reminders")
    lesson_start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set instead of `sent_at` when the lesson was cancelled or moved before delivery.
    skipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "user", "lesson_start"], name="lesson_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"Reminder to {self.user.full_name} of the lesson at {self.lesson_start:%Y-%m-%d %H:%M %Z}"
