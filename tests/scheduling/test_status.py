"""Cancel, complete, no-show and rescheduling, by role."""

from datetime import timedelta

import pytest

from scheduling.models import LessonStatus
from tests.accounts.factories import StudentFactory, TeacherFactory, TutorFactory
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson

URL = "/api/scheduling/lessons/"


def action(client, lesson, name, data=None):
    return client.post(f"{URL}{lesson.pk}/{name}/", data or {})


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["teacher", "tutor", "admin_user"])
def test_teacher_tutor_and_admin_cancel_even_at_the_last_minute(make_client, enrollment, request, role):
    lesson = make_lesson(enrollment, start=in_hours(1))
    actor = request.getfixturevalue(role)
    response = action(make_client(actor), lesson, "cancel", {"reason": "Sick"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Sick"
    lesson.refresh_from_db()
    assert lesson.cancelled_by == actor and lesson.cancelled_at is not None


@pytest.mark.django_db
def test_student_cancels_only_up_to_24_hours_before(make_client, enrollment, student):
    early = make_lesson(enrollment, start=in_hours(25))
    late = make_lesson(enrollment, start=in_hours(23))
    client = make_client(student)
    assert action(client, early, "cancel", {"reason": "Holiday"}).status_code == 200
    response = action(client, late, "cancel", {"reason": "Holiday"})
    assert response.status_code == 409
    assert response.json()["code"] == "cancel_too_late"
    late.refresh_from_db()
    assert late.status == LessonStatus.SCHEDULED


@pytest.mark.django_db
def test_parent_sees_but_cannot_cancel(make_client, enrollment, parent):
    lesson = make_lesson(enrollment, start=in_hours(48))
    client = make_client(parent)
    assert client.get(f"{URL}{lesson.pk}/").status_code == 200
    assert action(client, lesson, "cancel", {"reason": "x"}).status_code == 403


@pytest.mark.django_db
def test_cancel_needs_a_reason(make_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(48))
    response = action(make_client(enrollment.teacher), lesson, "cancel", {})
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


@pytest.mark.django_db
def test_strangers_get_404(make_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(48))
    for stranger in (TeacherFactory(), TutorFactory(), StudentFactory()):
        client = make_client(stranger)
        assert client.get(f"{URL}{lesson.pk}/").status_code == 404
        assert action(client, lesson, "cancel", {"reason": "x"}).status_code == 404
        assert client.patch(f"{URL}{lesson.pk}/", {"topic": "x"}).status_code == 404
    assert make_client(enrollment.teacher).get(f"{URL}999999/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "status"), [("complete", "completed"), ("no-show", "no_show")])
def test_teacher_closes_a_lesson_after_its_start(make_client, enrollment, name, status):
    started = make_lesson(enrollment, start=in_hours(-0.5))
    future = make_lesson(enrollment, start=in_hours(2))
    client = make_client(enrollment.teacher)
    response = action(client, future, name)
    assert response.status_code == 409
    assert response.json()["code"] == "lesson_not_started"
    response = action(client, started, name)
    assert response.status_code == 200
    assert response.json()["status"] == status
    # Once closed, no other change of status.
    for again in ("complete", "no-show", "cancel"):
        response = action(client, started, again, {"reason": "x"})
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["student", "tutor", "parent", "admin_user"])
def test_only_the_teacher_completes(make_client, enrollment, request, role):
    lesson = make_lesson(enrollment, start=in_hours(-0.5))
    client = make_client(request.getfixturevalue(role))
    assert action(client, lesson, "complete").status_code == 403
    assert action(client, lesson, "no-show").status_code == 403


@pytest.mark.django_db
def test_cancelled_lesson_cannot_be_completed(make_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(-0.5), status=LessonStatus.CANCELLED)
    assert action(make_client(enrollment.teacher), lesson, "complete").status_code == 409


@pytest.mark.django_db
def test_reschedule_rechecks_overlaps(make_client, enrollment, teacher):
    start = in_hours(48)
    lesson = make_lesson(enrollment, start=start)
    other = make_lesson(EnrollmentFactory(student=StudentFactory(), teacher=teacher), start=start + timedelta(hours=2))
    client = make_client(teacher)
    # Moving within its own slot does not conflict with itself.
    response = client.patch(f"{URL}{lesson.pk}/", {"end": (start + timedelta(minutes=90)).isoformat()})
    assert response.status_code == 200, response.json()
    response = client.patch(
        f"{URL}{lesson.pk}/",
        {
            "start": (start + timedelta(hours=1, minutes=30)).isoformat(),
            "end": (start + timedelta(hours=3)).isoformat(),
        },
    )
    assert response.status_code == 409
    assert response.json()["conflicts"][0]["lesson"]["id"] == other.pk
    lesson.refresh_from_db()
    assert lesson.start == start


@pytest.mark.django_db
def test_reschedule_checks_duration_and_status(make_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(48))
    client = make_client(enrollment.teacher)
    response = client.patch(f"{URL}{lesson.pk}/", {"end": (lesson.start + timedelta(hours=5)).isoformat()})
    assert response.status_code == 400
    done = make_lesson(enrollment, start=in_hours(-3), status=LessonStatus.COMPLETED)
    response = client.patch(f"{URL}{done.pk}/", {"start": in_hours(72).isoformat(), "end": in_hours(73).isoformat()})
    assert response.status_code == 409


@pytest.mark.django_db
def test_patch_edits_texts_and_refuses_other_fields(make_client, enrollment, tutor, student):
    lesson = make_lesson(enrollment, start=in_hours(48))
    response = make_client(tutor).patch(f"{URL}{lesson.pk}/", {"topic": "Algebra", "notes": "Bring a calculator"})
    assert response.status_code == 200
    assert response.json()["topic"] == "Algebra"
    response = make_client(enrollment.teacher).patch(f"{URL}{lesson.pk}/", {"status": "completed"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert make_client(student).patch(f"{URL}{lesson.pk}/", {"topic": "x"}).status_code == 403
    assert make_client(enrollment.teacher).put(f"{URL}{lesson.pk}/", {"topic": "x"}).status_code == 405
    assert make_client(enrollment.teacher).delete(f"{URL}{lesson.pk}/").status_code == 405


@pytest.mark.django_db
def test_a_lesson_under_way_may_be_lengthened_but_not_moved_into_the_past(make_client, enrollment):
    lesson = make_lesson(enrollment, start=in_hours(-0.25))
    client = make_client(enrollment.teacher)
    response = client.patch(f"{URL}{lesson.pk}/", {"end": (lesson.end + timedelta(minutes=30)).isoformat()})
    assert response.status_code == 200, response.json()
    response = client.patch(f"{URL}{lesson.pk}/", {"start": (lesson.start - timedelta(minutes=5)).isoformat()})
    assert response.status_code == 400
    assert response.json()["code"] == "start_in_past"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["student", "parent"])
@pytest.mark.parametrize(
    "body", [{}, {"topic": "x"}, {"end": "not a date"}, {"status": "completed"}], ids=["empty", "real", "bad", "ro"]
)
def test_patch_is_refused_to_who_may_not_edit_whatever_the_body(make_client, enrollment, request, role, body):
    """Regression: an empty PATCH was a 200 to the student and the parent (the check ran only on changes), and an
    invalid one a 400 (validation ran first): the role check is made before the body is read."""
    lesson = make_lesson(enrollment, start=in_hours(48))
    response = make_client(request.getfixturevalue(role)).patch(f"{URL}{lesson.pk}/", body, format="json")
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
    before = lesson.updated_at
    lesson.refresh_from_db()
    assert lesson.updated_at == before and lesson.topic != "x"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["teacher", "tutor", "admin_user"])
def test_empty_patch_by_an_editor_changes_nothing(make_client, enrollment, request, role):
    lesson = make_lesson(enrollment, start=in_hours(48))
    response = make_client(request.getfixturevalue(role)).patch(f"{URL}{lesson.pk}/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == lesson.pk
