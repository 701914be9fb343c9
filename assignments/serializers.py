"""Serializers of assignments: one per use. Read serializers expect the querysets of `assignments.selectors`
(prefetched and annotated): none of them queries per row."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role, User
from accounts.serializers import PersonSerializer
from assignments.gradebook import rounded_percent
from assignments.models import MAX_SCORE_LIMIT, Assignment, AssignmentStatus, Submission
from config.parsing import CharField, DateTimeField, IdRelatedField, ModelSerializer, ScopedIdRelatedField
from enrollments.models import Subject
from enrollments.serializers import SubjectBriefSerializer
from enrollments.visibility import students_of

TEXT_LIMIT = 20000


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = CharField(read_only=True)
    content_type = CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, attachment) -> str:
        return reverse("assignment-attachment", args=[attachment.assignment_id, attachment.pk])


class SubmissionSummarySerializer(serializers.Serializer):
    """A student's own submission, inline in the assignment list."""

    id = serializers.IntegerField()
    status = CharField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    submitted_at = serializers.DateTimeField()
    is_late = serializers.BooleanField()
    attempt = serializers.IntegerField()


class SubmissionCountsSerializer(serializers.Serializer):
    """For the teacher: students who receive it, have handed in (any status), are graded, returned, late."""

    received = serializers.IntegerField()
    submitted = serializers.IntegerField()
    graded = serializers.IntegerField()
    returned = serializers.IntegerField()
    late = serializers.IntegerField()


class AssignmentSerializer(ModelSerializer):
    """An assignment as a tutor or parent sees it (read-only); the base of the other read serializers."""

    subject = SubjectBriefSerializer(read_only=True)
    teacher = PersonSerializer(read_only=True)
    assigned_to = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "title",
            "description",
            "subject",
            "teacher",
            "due_at",
            "max_score",
            "status",
            "allow_late",
            "assigned_to",
            "attachments",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_assigned_to(self, assignment) -> list[int]:
        """Explicit recipients (empty: the teacher's whole class), limited to the students the caller may see."""
        ids = [student.pk for student in assignment.students.all()]
        visible = self.context.get("visible_student_ids")
        return ids if visible is None else [pk for pk in ids if pk in visible]


class StudentAssignmentSerializer(AssignmentSerializer):
    submission = serializers.SerializerMethodField()

    class Meta(AssignmentSerializer.Meta):
        fields = [*AssignmentSerializer.Meta.fields, "submission"]
        read_only_fields = fields

    @extend_schema_field(SubmissionSummarySerializer(allow_null=True))
    def get_submission(self, assignment):
        if getattr(assignment, "my_submission_id", None) is None:
            return None
        return SubmissionSummarySerializer(
            {
                "id": assignment.my_submission_id,
                "status": assignment.my_status,
                "score": assignment.my_score,
                "submitted_at": assignment.my_submitted_at,
                "is_late": assignment.my_is_late,
                "attempt": assignment.my_attempt,
            }
        ).data


class TeacherAssignmentSerializer(AssignmentSerializer):
    counts = serializers.SerializerMethodField()

    class Meta(AssignmentSerializer.Meta):
        fields = [*AssignmentSerializer.Meta.fields, "counts"]
        read_only_fields = fields

    @extend_schema_field(SubmissionCountsSerializer)
    def get_counts(self, assignment):
        received = assignment.explicit_count or assignment.enrolled_count
        return {
            "received": received,
            "submitted": assignment.submitted_count,
            "graded": assignment.graded_count,
            "returned": assignment.returned_count,
            "late": assignment.late_count,
        }


class AssignmentReadSerializer(TeacherAssignmentSerializer):
    """Schema only: an assignment as the list and the detail answer it to any role (`assignment_serializer_for`),
    the tutor's and parent's fields, `counts` for teachers and admins, `submission` for students."""

    submission = serializers.SerializerMethodField()

    class Meta(TeacherAssignmentSerializer.Meta):
        fields = [*TeacherAssignmentSerializer.Meta.fields, "submission"]
        read_only_fields = fields

    get_submission = StudentAssignmentSerializer.get_submission


class AssignmentReadSerializerExtension(OpenApiSerializerExtension):
    """`counts` and `submission` are there for some roles only: not required."""

    target_class = AssignmentReadSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["required"] = [name for name in schema.get("required", []) if name not in ("counts", "submission")]
        schema["properties"]["counts"]["description"] = "Teachers and administrators only."
        schema["properties"]["submission"]["description"] = "Students only: their own submission, or null."
        return schema


def assignment_serializer_for(user: User) -> type[AssignmentSerializer]:
    if user.role == Role.STUDENT:
        return StudentAssignmentSerializer
    if user.is_admin or user.role == Role.TEACHER:
        return TeacherAssignmentSerializer
    return AssignmentSerializer


class _AssignmentInputSerializer(serializers.Serializer):
    title = CharField(max_length=200)
    description = CharField(max_length=TEXT_LIMIT, allow_blank=True, required=False)
    due_at = DateTimeField()
    max_score = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_SCORE_LIMIT
    )
    allow_late = serializers.BooleanField(required=False)
    # Resolved among the caller's students only: a foreign id is answered exactly like a missing one.
    assigned_to = ScopedIdRelatedField(
        many=True, required=False, queryset=User.objects.filter(role=Role.STUDENT), scope=students_of, source="students"
    )


class AssignmentCreateSerializer(_AssignmentInputSerializer):
    """A new assignment, a draft unless `status` is `published`; `assigned_to` empty: the whole class."""

    subject = IdRelatedField(queryset=Subject.objects.all())
    status = serializers.ChoiceField(
        choices=[AssignmentStatus.DRAFT, AssignmentStatus.PUBLISHED], default=AssignmentStatus.DRAFT
    )


class AssignmentUpdateSerializer(_AssignmentInputSerializer):
    """PATCH: any of the fields; `status` moves it draft → published → closed (→ published: re-open)."""

    status = serializers.ChoiceField(choices=AssignmentStatus.choices, required=False)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class SubmissionFileSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = CharField(read_only=True)
    content_type = CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, stored_file) -> str:
        return reverse("submission-file", args=[self.context["submission_id"], stored_file.pk])


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    text = CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    is_late = serializers.BooleanField(read_only=True)
    files = serializers.SerializerMethodField()

    @extend_schema_field(SubmissionFileSerializer(many=True))
    def get_files(self, attempt):
        context = {"submission_id": attempt.submission_id}
        return SubmissionFileSerializer(attempt.files.all(), many=True, context=context).data


class SubmissionSerializer(ModelSerializer):
    """The current state with the current attempt's text and files."""

    student = PersonSerializer(read_only=True)
    graded_by = PersonSerializer(read_only=True, allow_null=True)
    text = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "assignment",
            "student",
            "status",
            "attempt",
            "submitted_at",
            "is_late",
            "text",
            "files",
            "score",
            "feedback",
            "graded_by",
            "graded_at",
        ]
        read_only_fields = fields

    @staticmethod
    def _current(submission):
        # Attempts are prefetched in order; no query here.
        attempts = [attempt for attempt in submission.attempts.all() if attempt.number == submission.attempt]
        return attempts[0] if attempts else None

    def get_text(self, submission) -> str:
        current = self._current(submission)
        return current.text if current else ""

    @extend_schema_field(SubmissionFileSerializer(many=True))
    def get_files(self, submission):
        current = self._current(submission)
        if current is None:
            return []
        return SubmissionFileSerializer(current.files.all(), many=True, context={"submission_id": submission.pk}).data


class GradeHistorySerializer(serializers.Serializer):
    action = CharField(read_only=True)
    attempt = serializers.IntegerField(read_only=True)
    score = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True, allow_null=True)
    max_score = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    feedback = CharField(read_only=True)
    by = PersonSerializer(read_only=True, allow_null=True)
    at = serializers.DateTimeField(read_only=True)


class SubmissionDetailSerializer(SubmissionSerializer):
    """With every attempt (earlier ones included) and the grading history."""

    attempts = AttemptSerializer(many=True, read_only=True)
    grade_history = GradeHistorySerializer(many=True, read_only=True)

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "attempts", "grade_history"]
        read_only_fields = fields


class SubmissionCreateSerializer(serializers.Serializer):
    """multipart/form-data: `text` and/or up to five `files`."""

    text = CharField(max_length=TEXT_LIMIT, allow_blank=True, required=False, default="")
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class GradeSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal(0))
    feedback = CharField(max_length=TEXT_LIMIT, allow_blank=True, required=False, default="")


class ReturnSerializer(serializers.Serializer):
    feedback = CharField(max_length=TEXT_LIMIT)


class GradebookRowSerializer(serializers.Serializer):
    student = PersonSerializer(read_only=True)
    subject = SubjectBriefSerializer(read_only=True)
    teacher = PersonSerializer(read_only=True)
    assignments_due = serializers.IntegerField(read_only=True)
    submitted = serializers.IntegerField(read_only=True)
    graded = serializers.IntegerField(read_only=True)
    late = serializers.IntegerField(read_only=True)
    average_percent = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True))
    def get_average_percent(self, row) -> str | None:
        value = rounded_percent(row.average_percent)
        return None if value is None else str(value)
