"""Subjects and enrollments: which student learns which subject with which teacher.

The base every domain app derives "who sees whom" from (`enrollments.visibility`). Writes (the API, services and
Django admin) live in `materials`, which sits above chat and tells it when enrollments change.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Subject(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    """A student learns a subject with a teacher. At most one active enrollment per student and subject."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="enrollments")
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teaching_enrollments")
    is_active = models.BooleanField(default=True)
    started_at = models.DateField(default=timezone.localdate)
    ended_at = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "subject"],
                condition=models.Q(is_active=True),
                name="enrollment_one_active_per_student_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="enrollment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["teacher", "is_active"], name="enrollment_teacher_active"),
            models.Index(fields=["student", "is_active"], name="enrollment_student_active"),
        ]

    def __str__(self) -> str:
        return f"{self.student.full_name} in {self.subject} with {self.teacher.full_name}"
