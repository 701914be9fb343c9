"""Learning materials and each student's progress through them (subjects and enrollments: `enrollments`)."""

from django.conf import settings
from django.db import models

from enrollments.models import Subject
from files.storage import upload_to


class MaterialKind(models.TextChoices):
    LESSON = "lesson", "Lesson"
    PRESENTATION = "presentation", "Presentation"
    VIDEO = "video", "Video"
    DOCUMENT = "document", "Document"
    TEST = "test", "Test"
    HOMEWORK = "homework", "Homework"


class MaterialStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Material(models.Model):
    """A learning material of a subject, written by a teacher.

    Who receives it once published: the students it names (`assigned_to`), or, when it names none, every student
    actively enrolled in its subject with its author (see `materials.selectors`).
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    content = models.TextField(blank=True, max_length=100_000)
    kind = models.CharField(max_length=16, choices=MaterialKind.choices, default=MaterialKind.LESSON)
    status = models.CharField(max_length=16, choices=MaterialStatus.choices, default=MaterialStatus.DRAFT)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="materials")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_materials")
    file = models.FileField(upload_to=upload_to("materials"), blank=True, max_length=255)
    # The uploader's file name, offered again on download; the stored name is generated.
    file_name = models.CharField(max_length=255, blank=True)
    url = models.URLField(blank=True, max_length=2000)
    assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="MaterialRecipient", related_name="received_materials", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=MaterialKind.values), name="material_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=MaterialStatus.values), name="material_status_valid"),
        ]
        indexes = [
            # Students', tutors' and parents' lists: published materials of a subject (and author).
            models.Index(fields=["subject", "status", "author"], name="material_subject_status"),
            # Teachers' lists: their own materials, newest first.
            models.Index(fields=["author", "-created_at"], name="material_author_created"),
        ]

    def __str__(self) -> str:
        return self.title


class MaterialRecipient(models.Model):
    """A student a material names explicitly."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="recipients")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["material", "student"], name="material_recipient_unique"),
        ]
        indexes = [models.Index(fields=["student", "material"], name="material_recipient_student")]

    def __str__(self) -> str:
        return f"{self.material} for {self.student.full_name}"


class MaterialProgress(models.Model):
    """How far one student got through one material. `percent` only moves forward, except by a teacher's reset."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="material_progress")
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="progress")
    percent = models.PositiveSmallIntegerField(default=0)
    time_spent_seconds = models.PositiveIntegerField(default=0)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "material progress"
        verbose_name_plural = "material progress"
        constraints = [
            # Also the index for "progress by student".
            models.UniqueConstraint(fields=["student", "material"], name="material_progress_one_per_student"),
            models.CheckConstraint(condition=models.Q(percent__lte=100), name="material_progress_percent_max_100"),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True) | models.Q(percent=100),
                name="material_progress_completed_at_100",
            ),
        ]
        indexes = [models.Index(fields=["material", "percent"], name="material_progress_material")]

    def __str__(self) -> str:
        return f"{self.student.full_name}: {self.percent}% of {self.material}"
