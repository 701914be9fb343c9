"""Assignments, submissions with their attempts and files, and the grading history.

Submissions: one `Submission` row per (assignment, student) holds the current state (status, attempt number,
latest submitted_at/is_late, grade). Every hand-in is kept as a `SubmissionAttempt` (text and files), so a
resubmission adds an attempt and never overwrites earlier work; the submission's id stays stable for clients.
Every grading or return is kept as a `GradeHistory` row, so a re-grade never loses the previous grade.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from enrollments.models import Subject
from files.storage import upload_to

MAX_SCORE_LIMIT = Decimal("1000.00")


class AssignmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    CLOSED = "closed", "Closed"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    GRADED = "graded", "Graded"
    RETURNED = "returned", "Returned for rework"


class Assignment(models.Model):
    """Homework set by a teacher in a subject.

    Recipients: the explicit `students` when there are any, otherwise every student actively enrolled with the
    teacher in the subject (resolved when read, so a student who joins the class later receives it too).
    """

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_assignments")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="assignments")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=20000)
    due_at = models.DateTimeField()
    max_score = models.DecimalField(max_digits=6, decimal_places=2)
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.DRAFT)
    allow_late = models.BooleanField(default=False)
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="explicit_assignments")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_score__gt=0, max_score__lte=MAX_SCORE_LIMIT), name="assignment_max_score_range"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=AssignmentStatus.values), name="assignment_status_valid"
            ),
            # Anything students have seen was published at some moment.
            models.CheckConstraint(
                condition=models.Q(status=AssignmentStatus.DRAFT) | models.Q(published_at__isnull=False),
                name="assignment_published_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["teacher", "status"], name="assignment_teacher_status"),
            models.Index(fields=["subject", "status"], name="assignment_subject_status"),
            models.Index(fields=["due_at"], name="assignment_due_at"),
        ]

    def __str__(self) -> str:
        return self.title


class AssignmentAttachment(models.Model):
    """A file the teacher attaches to an assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=upload_to("assignments"), max_length=255)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    """The current state of one student's work on one assignment (see the module docstring)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED)
    attempt = models.PositiveSmallIntegerField(default=1)
    submitted_at = models.DateTimeField()
    is_late = models.BooleanField(default=False)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    feedback = models.TextField(blank=True, max_length=20000)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="submission_one_per_student"),
            models.CheckConstraint(
                condition=models.Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(attempt__gte=1), name="submission_attempt_positive"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0), name="submission_score_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=SubmissionStatus.GRADED)
                | models.Q(score__isnull=False, graded_at__isnull=False),
                name="submission_graded_has_score",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "status"], name="submission_student_status"),
            models.Index(fields=["assignment", "status"], name="submission_assignment_status"),
        ]

    def __str__(self) -> str:
        return f"{self.student.full_name}: {self.assignment}"


class SubmissionAttempt(models.Model):
    """One hand-in of a submission; earlier attempts stay readable."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True, max_length=20000)
    submitted_at = models.DateTimeField()
    is_late = models.BooleanField(default=False)

    class Meta:
        ordering = ["submission_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="submission_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.submission}"


class SubmissionFile(models.Model):
    attempt = models.ForeignKey(SubmissionAttempt, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=upload_to("assignments"), max_length=255)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class GradeAction(models.TextChoices):
    GRADED = "graded", "Graded"
    RETURNED = "returned", "Returned for rework"


class GradeHistory(models.Model):
    """Audit of grading: one row per grade or return, written by `assignments.history`."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="grade_history")
    attempt = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=16, choices=GradeAction.choices)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=6, decimal_places=2)
    feedback = models.TextField(blank=True, max_length=20000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission_id", "at", "id"]
        verbose_name = "grade history entry"
        verbose_name_plural = "grade history entries"
        indexes = [models.Index(fields=["submission", "at"], name="gradehistory_submission_at")]

    def __str__(self) -> str:
        score = f" {self.score}/{self.max_score}" if self.score is not None else ""
        return f"{self.get_action_display()}{score} (attempt {self.attempt}), {self.at:%Y-%m-%d %H:%M %Z}"
