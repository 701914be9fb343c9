"""Serializers of scheduling, one per use. Read serializers expect `selectors.lessons_visible_to` querysets."""

from rest_framework import serializers

from accounts.serializers import PersonSerializer
from config.parsing import BoundedIntegerField, CharField, DateTimeField, IdField, ModelSerializer
from enrollments.serializers import SubjectBriefSerializer
from scheduling.models import Lesson


class LessonSerializer(ModelSerializer):
    teacher = PersonSerializer()
    student = PersonSerializer()
    subject = SubjectBriefSerializer()

    class Meta:
        model = Lesson
        fields = [
            "id",
            "teacher",
            "student",
            "subject",
            "start",
            "end",
            "status",
            "topic",
            "meeting_url",
            "notes",
            "cancel_reason",
            "cancelled_at",
            "series_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LessonCreateSerializer(serializers.Serializer):
    student = IdField()
    subject = IdField()
    teacher = IdField(required=False, help_text="Defaults to the caller for a teacher.")
    start = DateTimeField()
    end = DateTimeField()
    topic = CharField(max_length=200, required=False, allow_blank=True, default="")
    meeting_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    notes = CharField(max_length=5000, required=False, allow_blank=True, default="")
    repeat_weekly = BoundedIntegerField(
        min_value=2,
        max_value=52,
        required=False,
        help_text="Create this many weekly lessons at the same local time in the teacher's time zone, all or none.",
    )


class LessonUpdateSerializer(serializers.Serializer):
    """Status changes go through their own actions; other fields cannot be changed once scheduled."""

    start = DateTimeField(required=False)
    end = DateTimeField(required=False)
    topic = CharField(max_length=200, required=False, allow_blank=True)
    meeting_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    notes = CharField(max_length=5000, required=False, allow_blank=True)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["This field cannot be changed here."] for name in unknown})
        return attrs


class LessonCancelSerializer(serializers.Serializer):
    reason = CharField(max_length=1000)
    accept_charge = serializers.BooleanField(
        default=False,
        help_text="A student cancelling within the notice period (BILLING_CANCELLATION_NOTICE_HOURS) accepts that "
        "the lesson is billed as a late cancellation; without it the answer is 409 `cancel_too_late`.",
    )


class LessonSeriesSerializer(serializers.Serializer):
    series_id = serializers.UUIDField()
    lessons = LessonSerializer(many=True)


class CalendarUrlSerializer(serializers.Serializer):
    url = serializers.URLField()
