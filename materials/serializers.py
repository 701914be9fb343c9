"""Serializers of materials: one per use. Read serializers expect the querysets of `materials.selectors`."""

from django.core.validators import URLValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PersonSerializer
from config.parsing import BoundedIntegerField, CharField, DateField, IdField, IdRelatedField, ModelSerializer
from enrollments.models import Enrollment, Subject
from enrollments.serializers import SubjectBriefSerializer
from materials.models import Material, MaterialKind, MaterialProgress, MaterialStatus
from materials.services import MAX_TIME_SPENT_SECONDS

MAX_RECIPIENTS = 500


# --- Subjects -------------------------------------------------------------------------------------------
class SubjectSerializer(ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "name", "description"]
        read_only_fields = fields


class SubjectWriteSerializer(serializers.Serializer):
    name = CharField(max_length=200)
    description = CharField(max_length=5000, allow_blank=True, required=False)


# --- Enrollments ----------------------------------------------------------------------------------------
class EnrollmentSerializer(ModelSerializer):
    student = PersonSerializer(read_only=True)
    subject = SubjectBriefSerializer(read_only=True)
    teacher = PersonSerializer(read_only=True)

    class Meta:
        model = Enrollment
        fields = ["id", "student", "subject", "teacher", "is_active", "started_at", "ended_at", "created_at"]
        read_only_fields = fields


class EnrollmentCreateSerializer(serializers.Serializer):
    student = IdField(help_text="Id of a student (a tutor: one of theirs).")
    subject = IdField()
    teacher = IdField(help_text="Id of a teacher.")
    started_at = DateField(required=False, help_text="Defaults to today.")


class EnrollmentUpdateSerializer(serializers.Serializer):
    is_active = serializers.BooleanField(help_text="Only `false`: ends the enrollment. Re-enroll with a POST.")
    ended_at = DateField(required=False, help_text="Defaults to today.")

    def validate_is_active(self, value):
        if value:
            raise serializers.ValidationError("An ended enrollment is not reopened; create a new one.")
        return value


# --- Materials ------------------------------------------------------------------------------------------


class ProgressSerializer(ModelSerializer):
    student = PersonSerializer(read_only=True)

    class Meta:
        model = MaterialProgress
        fields = ["student", "material", "percent", "time_spent_seconds", "last_opened_at", "completed_at"]
        read_only_fields = fields


class StudentProgressSerializer(ModelSerializer):
    """One student's progress on a material, as its author reads it."""

    student = PersonSerializer(read_only=True)

    class Meta:
        model = MaterialProgress
        fields = ["student", "percent", "time_spent_seconds", "last_opened_at", "completed_at"]
        read_only_fields = fields


class InlineProgressSerializer(serializers.Serializer):
    """A student's own progress on a material, from the annotations of `selectors.with_progress_of`."""

    percent = serializers.IntegerField(source="progress_percent")
    time_spent_seconds = serializers.IntegerField(source="progress_time_spent_seconds")
    last_opened_at = serializers.DateTimeField(source="progress_last_opened_at", allow_null=True)
    completed_at = serializers.DateTimeField(source="progress_completed_at", allow_null=True)


class MaterialSerializer(ModelSerializer):
    """A material as teachers, tutors, parents and admins read it."""

    subject = SubjectBriefSerializer(read_only=True)
    author = PersonSerializer(read_only=True)
    file_url = serializers.SerializerMethodField(help_text="Download URL of the attached file, or null.")
    url = serializers.URLField(read_only=True, allow_blank=True, help_text="A link to read, or empty.")
    assigned_to = serializers.SerializerMethodField(
        help_text="Ids of the students the material names (empty: every student enrolled with the author in the "
        "subject). Others than the author and admins only see their own students among them."
    )

    class Meta:
        model = Material
        fields = [
            "id",
            "title",
            "description",
            "content",
            "kind",
            "status",
            "subject",
            "author",
            "file_url",
            "file_name",
            "url",
            "assigned_to",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, material) -> str | None:
        if not material.file:
            return None
        path = reverse("material-file", kwargs={"pk": material.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_assigned_to(self, material) -> list[int]:
        # Prefetched for the whole page by `selectors.material_list_for`.
        return [user.pk for user in material.visible_recipients]


class StudentMaterialSerializer(MaterialSerializer):
    """A material as a student reads it: with their own progress."""

    progress = InlineProgressSerializer(source="*", read_only=True)

    class Meta(MaterialSerializer.Meta):
        fields = [*MaterialSerializer.Meta.fields, "progress"]
        read_only_fields = fields


_http_url = [URLValidator(schemes=["http", "https"])]


class MaterialCreateSerializer(serializers.Serializer):
    title = CharField(max_length=200)
    description = CharField(max_length=5000, allow_blank=True, default="")
    content = CharField(max_length=100_000, allow_blank=True, default="", trim_whitespace=False)
    kind = serializers.ChoiceField(choices=MaterialKind.choices, default=MaterialKind.LESSON)
    status = serializers.ChoiceField(choices=MaterialStatus.choices, default=MaterialStatus.DRAFT)
    subject = IdRelatedField(queryset=Subject.objects.all())
    url = CharField(max_length=2000, allow_blank=True, default="", validators=_http_url)
    file = serializers.FileField(required=False, max_length=255, help_text="multipart/form-data only.")
    assigned_to = serializers.ListField(
        child=IdField(),
        max_length=MAX_RECIPIENTS,
        default=list,
        help_text="Ids of students enrolled with the author in the subject; empty: all of them.",
    )
    author = IdField(required=False, help_text="Admins only (required for them): the teacher who authors it.")


class MaterialUpdateSerializer(serializers.Serializer):
    title = CharField(max_length=200, required=False)
    description = CharField(max_length=5000, allow_blank=True, required=False)
    content = CharField(max_length=100_000, allow_blank=True, required=False, trim_whitespace=False)
    kind = serializers.ChoiceField(choices=MaterialKind.choices, required=False)
    status = serializers.ChoiceField(choices=MaterialStatus.choices, required=False)
    subject = IdRelatedField(queryset=Subject.objects.all(), required=False)
    url = CharField(max_length=2000, allow_blank=True, required=False, validators=_http_url)
    file = serializers.FileField(
        required=False, allow_null=True, max_length=255, help_text="A new file replaces the old one; null removes it."
    )
    assigned_to = serializers.ListField(child=IdField(), max_length=MAX_RECIPIENTS, required=False)

    def validate(self, attrs):
        if "author" in self.initial_data:
            raise serializers.ValidationError({"author": ["The author of a material does not change."]})
        return attrs


class ProgressUpdateSerializer(serializers.Serializer):
    percent = BoundedIntegerField(min_value=0, max_value=100)
    time_spent_seconds = BoundedIntegerField(
        min_value=0, max_value=MAX_TIME_SPENT_SECONDS, required=False, help_text="Total so far, not an increment."
    )


class ProgressResetSerializer(serializers.Serializer):
    student = IdField()


class DashboardSubjectSerializer(serializers.Serializer):
    subject = SubjectBriefSerializer()
    materials = serializers.IntegerField(help_text="Published materials the student receives.")
    completed = serializers.IntegerField()
    average_percent = serializers.FloatField(help_text="Materials not started count as 0.")


class DashboardTotalsSerializer(serializers.Serializer):
    materials = serializers.IntegerField()
    completed = serializers.IntegerField()
    average_percent = serializers.FloatField()


class DashboardSerializer(serializers.Serializer):
    student = PersonSerializer()
    subjects = DashboardSubjectSerializer(many=True)
    totals = DashboardTotalsSerializer()
