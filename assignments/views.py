"""Thin views of assignments: parse, check the role, call one selector or service, render."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Role
from accounts.permissions import HasRole
from assignments import selectors, services
from assignments.errors import AssignmentErrorCode
from assignments.gradebook import gradebook_rows
from assignments.models import Assignment, AssignmentStatus, Submission, SubmissionStatus
from assignments.serializers import (
    AssignmentCreateSerializer,
    AssignmentReadSerializer,
    AssignmentUpdateSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    GradebookRowSerializer,
    GradeSerializer,
    ReturnSerializer,
    SubmissionCreateSerializer,
    SubmissionDetailSerializer,
    SubmissionSerializer,
    TeacherAssignmentSerializer,
    assignment_serializer_for,
)
from config.exceptions import ErrorCode
from config.parsing import BooleanFilter, DateTimeFilter, IdField, IdFilter, given_query
from config.schema import api_errors
from config.throttling import ScopedRateThrottle
from enrollments.models import Enrollment
from files.downloads import file_response


class AssignmentFilter(django_filters.FilterSet):
    subject = IdFilter(field_name="subject_id")
    teacher = IdFilter(field_name="teacher_id")
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices)
    due_after = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = DateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Assignment
        fields = ["subject", "teacher", "status", "due_after", "due_before"]


class SubmissionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SubmissionStatus.choices)
    student = IdFilter(field_name="student_id")
    is_late = BooleanFilter()


# Role gates; whether a user may see or change one assignment or submission is `selectors.access_*` and
# `services.check_can_manage_assignment`.
TeachersWrite = HasRole(Role.TEACHER, Role.ADMIN, reads_open=True, message="Only teachers may change assignments.")
Teachers = HasRole(Role.TEACHER, message="Only teachers may create assignments.")
Students = HasRole(Role.STUDENT, message="Only students hand in work.")


class _UploadThrottleMixin:
    upload_actions: tuple[str, ...] = ()

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action in self.upload_actions and self.request.method == "POST":
            self.throttle_scope = "uploads"
            throttles.append(ScopedRateThrottle())
        return throttles


# publish / close: the assignment's teacher (or an admin), along the lifecycle.
_STATUS_ERRORS = {403: [AssignmentErrorCode.NOT_ALLOWED], 409: [AssignmentErrorCode.INVALID_TRANSITION]}


@extend_schema_view(
    list=extend_schema(responses=AssignmentReadSerializer(many=True)),
    retrieve=extend_schema(responses=AssignmentReadSerializer),
)
class AssignmentViewSet(
    _UploadThrottleMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Teachers write their own assignments; students read what they receive (published or closed), with their
    submission summary; tutors and parents read their students'. Teachers and admins get submission counts."""

    permission_classes = [TeachersWrite]
    serializer_class = TeacherAssignmentSerializer
    filterset_class = AssignmentFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_at", "created_at", "title"]
    ordering = ["due_at", "id"]
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    upload_actions = ("submissions", "attachments")

    def get_permissions(self):
        if self.action == "create":
            return [Teachers()]
        if self.action == "submissions":
            # Everyone who sees the assignment reads its (visible) submissions; only students hand in.
            return [Students()] if self.request.method == "POST" else [IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        return selectors.assignments_for_screen(self.request.user)

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return TeacherAssignmentSerializer
        return assignment_serializer_for(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["visible_student_ids"] = selectors.visible_student_ids(self.request.user)
        return context

    def get_object(self):
        return selectors.access_assignment(self.request.user, self.kwargs["pk"], for_screen=True)

    def _render(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        assignment = selectors.access_assignment(self.request.user, pk, for_screen=True)
        return Response(self.get_serializer(assignment).data, status=status_code)

    @extend_schema(request=AssignmentCreateSerializer, responses={201: TeacherAssignmentSerializer})
    @api_errors({400: [AssignmentErrorCode.SCORE_OUT_OF_RANGE, AssignmentErrorCode.INVALID_RECIPIENTS]})
    def create(self, request):
        serializer = AssignmentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        publish = data.pop("status") == AssignmentStatus.PUBLISHED
        assignment = services.assignment_create(teacher=request.user, publish=publish, **data)
        return self._render(assignment.pk, status.HTTP_201_CREATED)

    @extend_schema(request=AssignmentUpdateSerializer, responses=TeacherAssignmentSerializer)
    @api_errors(
        {
            400: [AssignmentErrorCode.SCORE_OUT_OF_RANGE, AssignmentErrorCode.INVALID_RECIPIENTS],
            403: [AssignmentErrorCode.NOT_ALLOWED],
            409: [AssignmentErrorCode.MAX_SCORE_LOCKED, AssignmentErrorCode.INVALID_TRANSITION],
        }
    )
    def partial_update(self, request, pk=None):
        assignment = selectors.access_assignment(request.user, pk)
        serializer = AssignmentUpdateSerializer(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.assignment_update(assignment=assignment, by=request.user, data=serializer.validated_data)
        return self._render(assignment.pk)

    @api_errors({403: [AssignmentErrorCode.NOT_ALLOWED], 409: [AssignmentErrorCode.HAS_SUBMISSIONS]})
    def destroy(self, request, pk=None):
        assignment = selectors.access_assignment(request.user, pk)
        services.assignment_delete(assignment=assignment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=TeacherAssignmentSerializer)
    @api_errors(_STATUS_ERRORS)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """draft → published (notifies the students), or re-open a closed assignment."""
        assignment = selectors.access_assignment(request.user, pk)
        services.assignment_publish(assignment=assignment, by=request.user)
        return self._render(assignment.pk)

    @extend_schema(request=None, responses=TeacherAssignmentSerializer)
    @api_errors(_STATUS_ERRORS)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """published → closed: no more hand-ins."""
        assignment = selectors.access_assignment(request.user, pk)
        services.assignment_close(assignment=assignment, by=request.user)
        return self._render(assignment.pk)

    @extend_schema(
        methods=["GET"],
        responses=SubmissionSerializer(many=True),
        parameters=[
            OpenApiParameter("status", str, enum=SubmissionStatus.values),
            OpenApiParameter("student", OpenApiTypes.INT64),
            OpenApiParameter("is_late", bool),
        ],
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": SubmissionCreateSerializer},
        responses={201: SubmissionDetailSerializer},
    )
    @api_errors(
        {
            400: [
                AssignmentErrorCode.SUBMISSION_EMPTY,
                AssignmentErrorCode.TOO_MANY_FILES,
                AssignmentErrorCode.PAST_DUE,
            ],
            409: [AssignmentErrorCode.ASSIGNMENT_CLOSED, AssignmentErrorCode.ALREADY_GRADED, ErrorCode.CONFLICT],
        },
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"])
    def submissions(self, request, pk=None):
        """GET: the submissions to this assignment the caller may see (a teacher: all; a student: their own).
        POST (students, multipart): hand in `text` and/or `files`; again until graded."""
        assignment = selectors.access_assignment(request.user, pk)
        if request.method == "POST":
            return self._submit(request, assignment)
        queryset = selectors.submissions_for_list(request.user).filter(assignment=assignment).order_by("id")
        filterset = SubmissionFilter(request.query_params, queryset=queryset)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    def _submit(self, request, assignment):
        serializer = SubmissionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submission_submit(
            assignment=assignment,
            student=request.user,
            text=serializer.validated_data["text"],
            files=serializer.validated_data["files"],
        )
        submission = selectors.access_submission(request.user, submission.pk, for_detail=True)
        return Response(SubmissionDetailSerializer(submission).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer})
    @api_errors({403: [AssignmentErrorCode.NOT_ALLOWED]})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        """Attach a file (multipart `file`) to the assignment: its teacher only."""
        assignment = selectors.access_assignment(request.user, pk)
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            assignment=assignment, by=request.user, upload=serializer.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={(200, "*/*"): bytes})
    @extend_schema(methods=["DELETE"], responses={204: None})
    @api_errors({403: [AssignmentErrorCode.NOT_ALLOWED]}, methods=["DELETE"])
    @action(
        detail=True,
        methods=["get", "delete"],
        url_path="attachments/<id:attachment_id>",
        url_name="attachment",
    )
    def attachment(self, request, pk=None, attachment_id=None):
        """GET: download the attachment (whoever sees the assignment). DELETE: its teacher removes it."""
        attachment = selectors.access_attachment(request.user, pk, attachment_id)
        if request.method == "DELETE":
            services.attachment_delete(attachment=attachment, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return file_response(attachment.file, attachment.name)


class SubmissionViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A submission with its attempts and grading history; the assignment's teacher grades or returns it."""

    permission_classes = [TeachersWrite]
    serializer_class = SubmissionDetailSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Submission.objects.none()
        return selectors.submissions_for_detail(self.request.user)

    def get_object(self):
        return selectors.access_submission(self.request.user, self.kwargs["pk"], for_detail=True)

    def _render(self, pk: int) -> Response:
        return Response(
            SubmissionDetailSerializer(selectors.access_submission(self.request.user, pk, for_detail=True)).data
        )

    @extend_schema(request=GradeSerializer, responses=SubmissionDetailSerializer)
    @api_errors(
        {
            400: [AssignmentErrorCode.SCORE_OUT_OF_RANGE],
            403: [AssignmentErrorCode.NOT_ALLOWED],
            409: [AssignmentErrorCode.NOT_GRADABLE],
        }
    )
    @action(detail=True, methods=["post"])
    def grade(self, request, pk=None):
        """Grade or re-grade: 0 ≤ score ≤ max_score, two decimal places; the previous grade stays in history."""
        submission = selectors.access_submission(request.user, pk)
        serializer = GradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.submission_grade(submission=submission, by=request.user, **serializer.validated_data)
        return self._render(submission.pk)

    @extend_schema(request=ReturnSerializer, responses=SubmissionDetailSerializer)
    @api_errors({403: [AssignmentErrorCode.NOT_ALLOWED], 409: [AssignmentErrorCode.NOT_RETURNABLE]})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_for_rework(self, request, pk=None):
        """Send back for rework with `feedback`: the student may hand in again."""
        submission = selectors.access_submission(request.user, pk)
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.submission_return(
            submission=submission, by=request.user, feedback=serializer.validated_data["feedback"]
        )
        return self._render(submission.pk)

    @extend_schema(responses={(200, "*/*"): bytes})
    @action(detail=True, methods=["get"], url_path="files/<id:file_id>", url_name="file")
    def file(self, request, pk=None, file_id=None):
        """Download a file of any attempt, for whoever sees the submission."""
        stored = selectors.access_submission_file(request.user, pk, file_id)
        return file_response(stored.file, stored.name)


class GradebookQuerySerializer(serializers.Serializer):
    subject = IdField(required=False)
    student = IdField(required=False)


@extend_schema(parameters=[GradebookQuerySerializer])
class GradebookView(ListAPIView):
    """Per student and subject: assignments due, submitted, graded, average percentage, late count
    (definitions in `assignments.gradebook`). Teachers see their students, tutors and parents theirs,
    a student themself."""

    serializer_class = GradebookRowSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        query = GradebookQuerySerializer(data=given_query(self.request))
        query.is_valid(raise_exception=True)
        return gradebook_rows(
            self.request.user,
            subject_id=query.validated_data.get("subject"),
            student_id=query.validated_data.get("student"),
        )
