"""Thin views of materials: subjects, enrollments, materials with files and progress, the student dashboard."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole, IsAdmin
from config.exceptions import ErrorCode, NotFound
from config.parsing import BooleanFilter, IdFilter, query_id
from config.schema import api_errors
from config.throttling import ScopedRateThrottle
from core import caching
from enrollments import selectors as enrollment_selectors
from enrollments.models import Enrollment
from files.downloads import file_response
from materials import selectors, services
from materials.errors import MaterialErrorCode
from materials.models import Material, MaterialKind, MaterialStatus
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

# Role gates; whether a user may see or change one material is `selectors.access_material` and
# `services.check_can_manage_material`.
AdminsAndTutors = HasRole(Role.ADMIN, Role.TUTOR, message="Only administrators and tutors may do this.")
TeachersAndAdmins = HasRole(Role.TEACHER, Role.ADMIN, message="Only teachers and administrators may do this.")
Students = HasRole(Role.STUDENT, message="Only students may do this.")
# Students, tutors, parents and admins: those who look at what students receive.
StudentsAndTheirPeople = HasRole(
    Role.STUDENT, Role.TUTOR, Role.PARENT, Role.ADMIN, message="Teachers have no student dashboard."
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
        return enrollment_selectors.subjects()

    def list(self, request, *args, **kwargs):
        # The same for everyone; cached until a subject is written (docs/performance.md "Cache").
        compute = super().list
        key = caching.request_key(request, "subjects")
        return Response(caching.cached(key, (caching.SUBJECTS,), lambda: compute(request, *args, **kwargs).data))

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
        return enrollment_selectors.enrollments_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        # Per user; names, subjects and who sees whom change it (docs/performance.md "Cache").
        compute = super().list
        key = caching.request_key(request, "enrollments", user_id=request.user.pk)
        scopes = (caching.ENROLLMENTS, caching.SUBJECTS, caching.PEOPLE)
        return Response(caching.cached(key, scopes, lambda: compute(request, *args, **kwargs).data))

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            return [AdminsAndTutors()]
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
        # The list and the detail; writes, progress and files read through `selectors.access_material`.
        return selectors.material_list_for(self.request.user)

    def get_serializer_class(self):
        if self.request is not None and getattr(self.request.user, "role", None) == Role.STUDENT:
            return StudentMaterialSerializer
        return MaterialSerializer

    def get_permissions(self):
        if self.action == "create":
            return [TeachersAndAdmins()]
        if self.action == "progress" and self.request.method == "PUT":
            return [Students()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action in ("create", "partial_update"):
            return [*super().get_throttles(), UploadThrottle()]
        return super().get_throttles()

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
        material = services.material_create(by=request.user, **serializer.validated_data)
        return self._render(material.pk, status.HTTP_201_CREATED)

    @extend_schema(request=MaterialUpdateSerializer, responses=MaterialSerializer)
    @api_errors({400: [MaterialErrorCode.NOT_YOUR_STUDENT], 403: [ErrorCode.PERMISSION_DENIED]})
    def partial_update(self, request, pk=None):
        material = selectors.access_material(request.user, pk)
        serializer = MaterialUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.material_update(material=material, by=request.user, data=serializer.validated_data)
        return self._render(material.pk)

    @api_errors({403: [ErrorCode.PERMISSION_DENIED]})
    def destroy(self, request, pk=None):
        services.material_delete(material=selectors.access_material(request.user, pk), by=request.user)
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
        material = selectors.access_material(request.user, pk)
        if request.method == "GET":
            services.check_can_manage_material(request.user, material)
            return Response(StudentProgressSerializer(selectors.progress_on(material), many=True).data)
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
        material = selectors.access_material(request.user, pk)
        serializer = ProgressResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        progress = services.progress_reset(
            material=material, by=request.user, student_id=serializer.validated_data["student"]
        )
        return Response(ProgressSerializer(progress).data)

    @extend_schema(
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The attached file, as an attachment, to those who may see the material.",
    )
    @api_errors({404: [MaterialErrorCode.NO_FILE]})
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def file(self, request, pk=None):
        material = selectors.access_material(request.user, pk)
        if not material.file:
            raise NotFound("This material has no file.", MaterialErrorCode.NO_FILE)
        return file_response(material.file, material.file_name or material.file.name)


class ProgressDashboardView(APIView):
    """A student's progress per subject. Students see their own; tutors, parents and admins pass `?student=`."""

    permission_classes = [StudentsAndTheirPeople]

    @extend_schema(
        parameters=[
            OpenApiParameter("student", int, description="Required for tutors, parents and admins: one of theirs.")
        ],
        responses=DashboardSerializer,
    )
    @api_errors({404: [ErrorCode.NOT_FOUND]})
    def get(self, request):
        dashboard = selectors.progress_dashboard(request.user, query_id(request, "student"))
        return Response(DashboardSerializer(dashboard).data)
