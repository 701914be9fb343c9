"""Django admin for lessons, and the scheduling endpoints open to anonymous callers (the feed only)."""

import pytest

from scheduling.models import Lesson
from scheduling.urls import urlpatterns
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson


def test_only_the_feed_is_anonymous():
    anonymous = set()
    for pattern in urlpatterns:
        view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
        permissions = [klass.__name__ for klass in getattr(view, "permission_classes", [])]
        if "AllowAny" in permissions:
            anonymous.add(pattern.name)
    assert anonymous == {"scheduling-feed"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/scheduling/lessons/"),
        ("post", "/api/scheduling/lessons/"),
        ("get", "/api/scheduling/lessons/1/"),
        ("patch", "/api/scheduling/lessons/1/"),
        ("post", "/api/scheduling/lessons/1/cancel/"),
        ("post", "/api/scheduling/lessons/1/complete/"),
        ("post", "/api/scheduling/lessons/1/no-show/"),
        ("get", "/api/scheduling/calendar/"),
        ("post", "/api/scheduling/calendar/rotate/"),
    ],
)
def test_everything_else_needs_a_token(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.fixture
def superuser(admin_user):
    admin_user.is_superuser = True  # Django's admin also checks model permissions
    admin_user.save()
    return admin_user


@pytest.mark.django_db
def test_admin_lists_and_filters_lessons(client, superuser, student, teacher):
    lesson = make_lesson(EnrollmentFactory(student=student, teacher=teacher), start=in_hours(24))
    client.force_login(superuser)
    for query in (
        "",
        "?status__exact=scheduled",
        f"?teacher__id__exact={teacher.pk}",
        f"?start__year={lesson.start.year}",
    ):
        response = client.get(f"/admin/scheduling/lesson/{query}")
        assert response.status_code == 200
        assert str(lesson.pk) in response.content.decode()
    assert client.get(f"/admin/scheduling/lesson/{lesson.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_admin_form_refuses_an_overlap(client, superuser, student, teacher):
    enrollment = EnrollmentFactory(student=student, teacher=teacher)
    existing = make_lesson(enrollment, start=in_hours(24))
    client.force_login(superuser)
    start = existing.start.strftime("%Y-%m-%d"), existing.start.strftime("%H:%M:%S")
    end = existing.end.strftime("%Y-%m-%d"), existing.end.strftime("%H:%M:%S")
    response = client.post(
        "/admin/scheduling/lesson/add/",
        {
            "teacher": teacher.pk,
            "student": student.pk,
            "subject": enrollment.subject_id,
            "start_0": start[0],
            "start_1": start[1],
            "end_0": end[0],
            "end_1": end[1],
            "status": "scheduled",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Overlaps lesson" in response.content.decode()
    assert Lesson.objects.count() == 1
