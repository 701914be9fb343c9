"""Thin views of materials: subjects, enrollments, materials with files and progress, the student dashboard."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from accounts.permissions import IsAdmin
from accounts.selectors import students_of
from config.exceptions import ErrorCode, NotFound
from config.parsing import BooleanFilter, IdFilter, query_id
from config.schema import api_errors
from config.throttling import ScopedRateThrottle
from files.downloads import file_response
from materials import selectors, services
from materials.errors import MaterialError, MaterialErrorCode
from materials.models import Enrollment, Material, MaterialKind, MaterialStatus
from materials.permissions import IsAdminOrTutor, IsNotTeacher, IsStudent, IsTeacherOrAdmin
from materials.serializers import (
    DashboardSerializer,
    EnrollmentCreateSerializer,
    EnrollmentSerializer,
    EnrollmentUpdateSerializer,
    MaterialCreateSerializer,
    MaterialSerializer,
    MaterialUpdateSerializer,
    ProgressResetSerializer,
    ProgressSerializer,
    ProgressUpdateSerializer,
    StudentMaterialSerializer,
    StudentProgressSerializer,
    SubjectSerializer,
    SubjectWriteSerializer,
)


# --- Subjects -------------------------------------------------------------------------------------------
class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every signed-in user reads subjects; admins create and edit them."""

    serializer_class = SubjectSerializer
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    lookup_value_converter = "id"

    def get_queryset(self):
        return selectors.subjects()

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            return [IsAdmin()]
        return super().get_permissions()

    @extend_schema(request=SubjectWriteSerializer, responses={201: SubjectSerializer})
    @api_errors({409: [MaterialErrorCode.SUBJECT_EXISTS]})
    def create(self, request):
        serializer = SubjectWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subject = services.subject_create(**serializer.validated_data)
        return Response(SubjectSerializer(subject).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubjectWriteSerializer, responses=SubjectSerializer)
    @api_errors({409: [MaterialErrorCode.SUBJECT_EXISTS]})
    def partial_update(self, request, pk=None):
        subject = self.get_object()
        serializer = SubjectWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subject = services.subject_update(subject=subject, data=serializer.validated_data)
        return Response(SubjectSerializer(subject).data)


# --- Enrollments ----------------------------------------------------------------------------------------
class EnrollmentFilter(django_filters.FilterSet):
    # Bounded ids rather than model choices: no query to validate a filter value.
    student = IdFilter(field_name="student_id")
    subject = IdFilter(field_name="subject_id")
    teacher = IdFilter(field_name="teacher_id")
    is_active = BooleanFilter()

    class Meta:
        model = Enrollment
        fields = ["student", "subject", "teacher", "is_active"]


class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Enrollments the caller may see. Admins, and a student's tutor, enroll the student and end enrollments."""

    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilter
    ordering_fields = ["created_at", "started_at", "id"]
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return selectors.enrollments_visible_to(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            return [IsAdminOrTutor()]
        return super().get_permissions()

    @extend_schema(request=EnrollmentCreateSerializer, responses={201: EnrollmentSerializer})
    @api_errors(
        {
            400: [MaterialErrorCode.NOT_YOUR_STUDENT, MaterialErrorCode.WRONG_ROLE],
            409: [MaterialErrorCode.ENROLLMENT_EXISTS],
        }
    )
    def create(self, request):
        serializer = EnrollmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enrollment = services.enrollment_create(
            by=request.user,
            student_id=data["student"],
            subject_id=data["subject"],
            teacher_id=data["teacher"],
            started_at=data.get("started_at"),
        )
        return Response(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data, status=201)

    @extend_schema(request=EnrollmentUpdateSerializer, responses=EnrollmentSerializer)
    def partial_update(self, request, pk=None):
        """End an enrollment (`{"is_active": false, "ended_at"?}`)."""
        enrollment = self.get_object()
        serializer = EnrollmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.enrollment_deactivate(enrollment=enrollment, ended_at=serializer.validated_data.get("ended_at"))
        return Response(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data)


# --- Materials ------------------------------------------------------------------------------------------
class MaterialFilter(django_filters.FilterSet):
    subject = IdFilter(field_name="subject_id")
    author = IdFilter(field_name="author_id")
    kind = django_filters.ChoiceFilter(choices=MaterialKind.choices)
    status = django_filters.ChoiceFilter(choices=MaterialStatus.choices)

    class Meta:
        model = Material
        fields = ["subject", "author", "kind", "status"]


class UploadThrottle(ScopedRateThrottle):
    """The `uploads` rate, counted only for multipart requests (those that may carry a file)."""

    def allow_request(self, request, view):
        if not (request.content_type or "").startswith("multipart/"):
            return True
        return super().allow_request(request, view)


def _can_write(user: User, material: Material) -> bool:
    return user.is_admin or material.author_id == user.pk


_STUDENT_PROGRESS_NOTE = (
    "For a student, each material also carries `progress` "
    "(`percent, time_spent_seconds, last_opened_at, completed_at`): their own, 0 when not started."
)


@extend_schema_view(
    list=extend_schema(description="Materials the caller may see. " + _STUDENT_PROGRESS_NOTE),
    retrieve=extend_schema(description=_STUDENT_PROGRESS_NOTE),
)
class MaterialViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Materials the caller may see. Teachers write their own, admins all; the others read.

    A material that exists but is not visible answers 404 like a missing one; one that is visible but not the
    caller's to change answers 403.
    """

    filterset_class = MaterialFilter
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "updated_at", "title"]
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"
    throttle_scope = "uploads"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Material.objects.none()
        if self.action in ("list", "retrieve"):
            return selectors.material_list_for(self.request.user)
        # Writes, progress and files only need the visibility check, not what the list shows.
        return selectors.materials_visible_to(self.request.user)

    def get_serializer_class(self):
        if self.request is not None and getattr(self.request.user, "role", None) == Role.STUDENT:
            return StudentMaterialSerializer
        return MaterialSerializer

    def get_permissions(self):
        if self.action == "create":
            return [IsTeacherOrAdmin()]
        if self.action == "progress" and self.request.method == "PUT":
            return [IsStudent()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action in ("create", "partial_update"):
            return [*super().get_throttles(), UploadThrottle()]
        return super().get_throttles()

    def _writable_object(self) -> Material:
        material = self.get_object()
        if not _can_write(self.request.user, material):
            raise PermissionDenied("Only the author or an administrator may change this material.")
        return material

    def _render(self, material_pk: int, status_code: int = 200) -> Response:
        material = selectors.material_list_for(self.request.user).get(pk=material_pk)
        return Response(self.get_serializer(material).data, status=status_code)

    @extend_schema(request=MaterialCreateSerializer, responses={201: MaterialSerializer})
    @api_errors(
        {400: [MaterialErrorCode.AUTHOR_REQUIRED, MaterialErrorCode.WRONG_ROLE, MaterialErrorCode.NOT_YOUR_STUDENT]}
    )
    def create(self, request):
        serializer = MaterialCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        author_id = data.pop("author", None)
        if request.user.is_admin:
            if author_id is None:
                raise MaterialError(
                    "Name the teacher who authors the material.",
                    MaterialErrorCode.AUTHOR_REQUIRED,
                    fields={"author": ["Required for administrators."]},
                )
            author = User.objects.filter(pk=author_id).first()
            if author is None:
                raise MaterialError("Unknown author.", MaterialErrorCode.WRONG_ROLE, fields={"author": ["Unknown."]})
        else:
            author = request.user
        material = services.material_create(author=author, **data)
        return self._render(material.pk, status.HTTP_201_CREATED)

    @extend_schema(request=MaterialUpdateSerializer, responses=MaterialSerializer)
    @api_errors({400: [MaterialErrorCode.NOT_YOUR_STUDENT], 403: [ErrorCode.PERMISSION_DENIED]})
    def partial_update(self, request, pk=None):
        material = self._writable_object()
        serializer = MaterialUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.material_update(material=material, data=serializer.validated_data)
        return self._render(material.pk)

    @api_errors({403: [ErrorCode.PERMISSION_DENIED]})
    def destroy(self, request, pk=None):
        services.material_delete(material=self._writable_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=StudentProgressSerializer(many=True),
        description="The author (or an admin): every student's progress on this material (those who started).",
    )
    @extend_schema(
        methods=["PUT"],
        request=ProgressUpdateSerializer,
        responses=ProgressSerializer,
        description="The calling student's progress. Values lower than those recorded are ignored (progress never "
        "goes backwards, except by the teacher's reset); `completed_at` is set when `percent` reaches 100.",
    )
    @api_errors({403: [ErrorCode.PERMISSION_DENIED]}, methods=["GET"])
    @action(detail=True, methods=["get", "put"], url_path="progress", pagination_class=None)
    def progress(self, request, pk=None):
        if request.method == "GET":
            material = self._writable_object()
            rows = selectors.progress_on(material)
            return Response(StudentProgressSerializer(rows, many=True).data)
        material = self.get_object()
        serializer = ProgressUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.progress_update(student=request.user, material=material, **serializer.validated_data)
        return Response(ProgressSerializer(progress).data)

    @extend_schema(
        request=ProgressResetSerializer,
        responses=ProgressSerializer,
        description="The author (or an admin) resets one student's progress on this material to 0 % and not "
        "completed; the time spent is kept. The student must receive the material or have progress on it.",
    )
    @api_errors({400: [MaterialErrorCode.NOT_A_RECIPIENT], 403: [ErrorCode.PERMISSION_DENIED]})
    @action(detail=True, methods=["post"], url_path="progress/reset")
    def progress_reset(self, request, pk=None):
        material = self._writable_object()
        serializer = ProgressResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.progress_reset(material=material, student_id=serializer.validated_data["student"])
        return Response(ProgressSerializer(progress).data)

    @extend_schema(
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The attached file, as an attachment, to those who may see the material.",
    )
    @api_errors({404: [MaterialErrorCode.NO_FILE]})
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def file(self, request, pk=None):
        material = self.get_object()
        if not material.file:
            raise NotFound("This material has no file.", MaterialErrorCode.NO_FILE)
        return file_response(material.file, material.file_name or material.file.name)


class ProgressDashboardView(APIView):
    """A student's progress per subject. Students see their own; tutors, parents and admins pass `?student=`."""

    permission_classes = [IsAuthenticated, IsNotTeacher]

    @extend_schema(
        parameters=[
            OpenApiParameter("student", int, description="Required for tutors, parents and admins: one of theirs.")
        ],
        responses=DashboardSerializer,
    )
    @api_errors({404: [ErrorCode.NOT_FOUND]})
    def get(self, request):
        student = self._student(request)
        subjects = selectors.progress_dashboard_for(student)
        materials = sum(row["materials"] for row in subjects)
        completed = sum(row["completed"] for row in subjects)
        weighted = sum(row["average_percent"] * row["materials"] for row in subjects)
        totals = {
            "materials": materials,
            "completed": completed,
            "average_percent": round(weighted / materials, 1) if materials else 0.0,
        }
        return Response(DashboardSerializer({"student": student, "subjects": subjects, "totals": totals}).data)

    def _student(self, request) -> User:
        user = request.user
        student_id = query_id(request, "student")
        if user.role == Role.STUDENT and student_id in (None, user.pk):
            return user
        if student_id is None:
            raise MaterialError("Name the student.", fields={"student": ["A student id is required."]})
        student = students_of(user).filter(pk=student_id).first()
        if student is None:
            raise NotFound()
        return student
