"""Thin views of scheduling: lessons, their status actions, and the calendar feed."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from config.exceptions import NotFound
from config.schema import api_errors
from scheduling import calendar, services
from scheduling.errors import SchedulingErrorCode
from scheduling.filters import LessonFilter
from scheduling.models import Lesson
from scheduling.selectors import access_lesson, lessons_visible_to
from scheduling.serializers import (
    CalendarUrlSerializer,
    LessonCancelSerializer,
    LessonCreateSerializer,
    LessonSerializer,
    LessonSeriesSerializer,
    LessonUpdateSerializer,
)

# Scheduling is for teachers, tutors and admins (who may schedule whom is the service's rule).
CanSchedule = HasRole(
    Role.TEACHER, Role.TUTOR, Role.ADMIN, message="Only teachers, tutors and administrators schedule lessons."
)

# Marking a lesson completed or no-show: its teacher only, once it has started.
_CLOSE_ERRORS = {
    403: [SchedulingErrorCode.NOT_ALLOWED],
    409: [SchedulingErrorCode.INVALID_TRANSITION, SchedulingErrorCode.LESSON_NOT_STARTED],
}


class LessonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Lessons the caller may see (teacher: theirs; student: own; tutor and parent: their students'; admin: all)."""

    serializer_class = LessonSerializer
    filterset_class = LessonFilter
    search_fields = ["topic"]
    ordering_fields = ["start", "end"]
    ordering = ["start", "id"]
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Lesson.objects.none()
        return lessons_visible_to(self.request.user)

    def get_object(self):
        return access_lesson(self.request.user, self.kwargs["pk"])

    def get_permissions(self):
        if self.action == "create":
            return [CanSchedule()]
        return super().get_permissions()

    @extend_schema(
        request=LessonCreateSerializer,
        responses={
            201: OpenApiResponse(
                LessonSerializer, description="The lesson; with `repeat_weekly`, `{series_id, lessons}`."
            ),
            409: OpenApiResponse(description="Overlaps: `conflicts` lists each date and the lesson in the way."),
        },
    )
    @api_errors(
        {
            400: [
                SchedulingErrorCode.INVALID_DURATION,
                SchedulingErrorCode.START_IN_PAST,
                SchedulingErrorCode.UNKNOWN_STUDENT,
                SchedulingErrorCode.UNKNOWN_SUBJECT,
                SchedulingErrorCode.UNKNOWN_TEACHER,
                SchedulingErrorCode.NOT_ENROLLED,
            ],
            403: [SchedulingErrorCode.NOT_ALLOWED],
            409: [SchedulingErrorCode.LESSON_CONFLICT],
        }
    )
    def create(self, request):
        serializer = LessonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lessons = services.lesson_schedule(
            actor=request.user,
            student_id=data["student"],
            subject_id=data["subject"],
            teacher_id=data.get("teacher"),
            start=data["start"],
            end=data["end"],
            topic=data["topic"],
            meeting_url=data["meeting_url"],
            notes=data["notes"],
            repeat_weekly=data.get("repeat_weekly"),
        )
        if data.get("repeat_weekly"):
            body = LessonSeriesSerializer({"series_id": lessons[0].series_id, "lessons": lessons}).data
        else:
            body = LessonSerializer(lessons[0]).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=LessonUpdateSerializer, responses={200: LessonSerializer})
    @api_errors(
        {
            400: [SchedulingErrorCode.INVALID_DURATION, SchedulingErrorCode.START_IN_PAST],
            403: [SchedulingErrorCode.NOT_ALLOWED],
            409: [SchedulingErrorCode.INVALID_TRANSITION, SchedulingErrorCode.LESSON_CONFLICT],
        }
    )
    def partial_update(self, request, pk=None):
        lesson = self.get_object()
        services.check_can_manage_lesson(request.user, lesson)  # before the body: 403 whatever is sent
        serializer = LessonUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_update(actor=request.user, lesson_id=lesson.pk, changes=serializer.validated_data)
        return Response(LessonSerializer(lesson).data)

    @extend_schema(request=LessonCancelSerializer, responses={200: LessonSerializer})
    @api_errors(
        {
            403: [SchedulingErrorCode.NOT_ALLOWED],
            409: [SchedulingErrorCode.INVALID_TRANSITION, SchedulingErrorCode.CANCEL_TOO_LATE],
        }
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        lesson = self.get_object()
        serializer = LessonCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lesson = services.lesson_cancel(
            actor=request.user,
            lesson_id=lesson.pk,
            reason=serializer.validated_data["reason"],
            accept_charge=serializer.validated_data["accept_charge"],
        )
        return Response(LessonSerializer(lesson).data)

    @extend_schema(request=None, responses={200: LessonSerializer})
    @api_errors(_CLOSE_ERRORS)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        lesson = services.lesson_complete(actor=request.user, lesson_id=self.get_object().pk)
        return Response(LessonSerializer(lesson).data)

    @extend_schema(request=None, responses={200: LessonSerializer})
    @api_errors(_CLOSE_ERRORS)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        lesson = services.lesson_mark_no_show(actor=request.user, lesson_id=self.get_object().pk)
        return Response(LessonSerializer(lesson).data)


def _feed_url(request, secret: str) -> str:
    return request.build_absolute_uri(reverse("scheduling-feed", kwargs={"secret": secret}))


class CalendarView(APIView):
    @extend_schema(responses={200: CalendarUrlSerializer})
    def get(self, request):
        """The caller's secret iCalendar feed URL (created on first use)."""
        return Response({"url": _feed_url(request, calendar.calendar_feed_secret(user=request.user))})


class CalendarRotateView(APIView):
    @extend_schema(request=None, responses={200: CalendarUrlSerializer})
    def post(self, request):
        """A new secret feed URL; the previous one stops working."""
        return Response({"url": _feed_url(request, calendar.calendar_feed_rotate(user=request.user))})


class _IgnoreAccept(BaseContentNegotiation):
    """Calendar clients send all kinds of Accept headers; the feed answers iCalendar (errors in JSON) anyway."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CalendarFeedView(APIView):
    """Anonymous by design: the secret in the path is the credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = _IgnoreAccept

    @extend_schema(
        operation_id="scheduling_feed_retrieve", responses={(200, "text/calendar"): OpenApiTypes.STR, 404: None}
    )
    def get(self, request, secret: str):
        user = calendar.feed_owner(secret)
        if user is None:
            raise NotFound("No such calendar.")
        response = HttpResponse(calendar.render_feed(user), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="lessons.ics"'
        response["Cache-Control"] = "private, max-age=300"
        return response
