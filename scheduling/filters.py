import django_filters

from config.parsing import DateTimeFilter, IdFilter
from scheduling.models import Lesson, LessonStatus


class LessonFilter(django_filters.FilterSet):
    """`from`/`to` select the lessons overlapping [from, to): those ending after `from` and starting before `to`."""

    to = DateTimeFilter(field_name="start", lookup_expr="lt", label="Lessons starting before.")
    status = django_filters.MultipleChoiceFilter(choices=LessonStatus.choices)
    teacher = IdFilter(field_name="teacher_id")
    student = IdFilter(field_name="student_id")
    subject = IdFilter(field_name="subject_id")
    series = django_filters.UUIDFilter(field_name="series_id")

    class Meta:
        model = Lesson
        fields: list[str] = []


# `from` is a Python keyword, so it cannot be a class attribute above.
LessonFilter.base_filters["from"] = DateTimeFilter(field_name="end", lookup_expr="gt", label="Lessons ending after.")
