"""Scheduling a lesson: who may schedule whom, times, and no double booking (API)."""

from datetime import timedelta

import pytest

from scheduling.models import Lesson, LessonStatus
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import EnrollmentFactory, SubjectFactory
from tests.scheduling.factories import in_hours, make_lesson
from tests.shapes import person

URL = "/api/scheduling/lessons/"


def body(enrollment, start, minutes=60, **extra):
    data = {
        "student": enrollment.student_id,
        "subject": enrollment.subject_id,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_teacher_schedules_an_enrolled_student(make_client, enrollment):
    start = in_hours(48)
    response = make_client(enrollment.teacher).post(
        URL, body(enrollment, start, topic="Fractions", meeting_url="https://meet.example.test/abc")
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "scheduled"
    assert data["teacher"] == person(enrollment.teacher)
    assert data["student"] == person(enrollment.student)
    assert data["subject"] == {"id": enrollment.subject_id, "name": enrollment.subject.name}
    assert data["topic"] == "Fractions"
    lesson = Lesson.objects.get(pk=data["id"])
    assert lesson.start == start and lesson.created_by == enrollment.teacher


@pytest.mark.django_db
def test_teacher_cannot_schedule_a_student_not_enrolled_in_that_subject(make_client, enrollment, teacher):
    # Enrolled, but with someone else:
    other_subject = EnrollmentFactory(student=enrollment.student, teacher=TeacherFactory()).subject
    data = body(enrollment, in_hours(48)) | {"subject": other_subject.pk}
    response = make_client(teacher).post(URL, data)
    assert response.status_code == 400
    assert response.json()["code"] == "not_enrolled"


@pytest.mark.django_db
def test_teacher_sees_no_difference_between_a_stranger_and_a_missing_student(make_client, enrollment):
    client = make_client(enrollment.teacher)
    stranger = client.post(URL, body(enrollment, in_hours(48)) | {"student": StudentFactory().pk})
    missing = client.post(URL, body(enrollment, in_hours(48)) | {"student": 999999})
    assert stranger.status_code == missing.status_code == 400
    assert stranger.json() == missing.json()
    assert stranger.json()["code"] == "unknown_student"


@pytest.mark.django_db
def test_inactive_enrollment_does_not_allow_scheduling(make_client, student, teacher):
    enrollment = EnrollmentFactory(student=student, teacher=teacher, is_active=False)
    response = make_client(teacher).post(URL, body(enrollment, in_hours(48)))
    assert response.status_code == 400


@pytest.mark.django_db
def test_teacher_cannot_schedule_for_another_teacher(make_client, enrollment):
    data = body(enrollment, in_hours(48)) | {"teacher": TeacherFactory().pk}
    response = make_client(enrollment.teacher).post(URL, data)
    assert response.status_code == 403


@pytest.mark.django_db
def test_tutor_schedules_for_their_student_naming_the_teacher(make_client, enrollment, tutor):
    client = make_client(tutor)
    assert client.post(URL, body(enrollment, in_hours(48))).json()["fields"]["teacher"]
    response = client.post(URL, body(enrollment, in_hours(48)) | {"teacher": enrollment.teacher_id})
    assert response.status_code == 201, response.json()
    assert response.json()["teacher"]["id"] == enrollment.teacher_id


@pytest.mark.django_db
def test_tutor_cannot_name_a_teacher_who_does_not_teach_the_student_the_subject(make_client, enrollment, tutor):
    response = make_client(tutor).post(URL, body(enrollment, in_hours(48)) | {"teacher": TeacherFactory().pk})
    assert response.status_code == 400
    assert response.json()["code"] == "not_enrolled"


@pytest.mark.django_db
def test_tutor_cannot_schedule_someone_elses_student(make_client, tutor, teacher):
    enrollment = EnrollmentFactory(student=StudentFactory(), teacher=teacher)
    response = make_client(tutor).post(URL, body(enrollment, in_hours(48)) | {"teacher": teacher.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_student"


@pytest.mark.django_db
def test_admin_schedules_anyone(make_client, admin_user, student, teacher):
    subject = SubjectFactory()
    start = in_hours(48)
    data = {
        "student": student.pk,
        "teacher": teacher.pk,
        "subject": subject.pk,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }
    response = make_client(admin_user).post(URL, data)
    assert response.status_code == 201, response.json()
    # ...but only a teacher teaches.
    response = make_client(admin_user).post(URL, data | {"teacher": StudentFactory().pk})
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["student", "parent"])
def test_students_and_parents_cannot_schedule(make_client, enrollment, request, role):
    response = make_client(request.getfixturevalue(role)).post(
        URL, body(enrollment, in_hours(48)) | {"teacher": enrollment.teacher_id}
    )
    assert response.status_code == 403
    assert not Lesson.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("minutes", "status"), [(14, 400), (15, 201), (240, 201), (241, 400), (0, 400), (-30, 400)])
def test_a_lesson_lasts_between_15_minutes_and_4_hours(make_client, enrollment, minutes, status):
    response = make_client(enrollment.teacher).post(URL, body(enrollment, in_hours(48), minutes=minutes))
    assert response.status_code == status, response.json()


@pytest.mark.django_db
def test_a_lesson_cannot_start_in_the_past(make_client, enrollment):
    response = make_client(enrollment.teacher).post(URL, body(enrollment, in_hours(-2)))
    assert response.status_code == 400
    assert response.json()["code"] == "start_in_past"


@pytest.mark.django_db
def test_teacher_double_booking_is_409_naming_the_lesson(make_client, enrollment, teacher):
    start = in_hours(48)
    existing = make_lesson(enrollment, start=start)
    other_student = EnrollmentFactory(student=StudentFactory(), teacher=teacher)
    response = make_client(teacher).post(URL, body(other_student, start + timedelta(minutes=30)))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "lesson_conflict"
    assert str(existing.pk) in data["detail"]
    [conflict] = data["conflicts"]
    assert conflict["lesson"]["id"] == existing.pk
    assert conflict["lesson"]["start"] == existing.start.isoformat().replace("+00:00", "Z")
    assert conflict["lesson"]["end"] == existing.end.isoformat().replace("+00:00", "Z")
    assert Lesson.objects.count() == 1


@pytest.mark.django_db
def test_student_double_booking_with_another_teacher_is_409(make_client, enrollment):
    start = in_hours(48)
    existing = make_lesson(enrollment, start=start)
    other_teacher = TeacherFactory()
    second = EnrollmentFactory(student=enrollment.student, teacher=other_teacher)
    response = make_client(other_teacher).post(URL, body(second, start - timedelta(minutes=30)))
    assert response.status_code == 409
    # Another teacher's lesson: only that the time is taken (tests/scheduling/test_conflict_privacy.py).
    assert response.json()["conflicts"][0]["lesson"] is None
    assert str(existing.pk) not in response.json()["detail"]


@pytest.mark.django_db
def test_back_to_back_lessons_do_not_overlap(make_client, enrollment):
    start = in_hours(48)
    make_lesson(enrollment, start=start)
    client = make_client(enrollment.teacher)
    assert client.post(URL, body(enrollment, start + timedelta(hours=1))).status_code == 201
    assert client.post(URL, body(enrollment, start - timedelta(hours=1))).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("status", [LessonStatus.CANCELLED, LessonStatus.COMPLETED, LessonStatus.NO_SHOW])
def test_only_scheduled_lessons_block_the_slot(make_client, enrollment, status):
    start = in_hours(48)
    make_lesson(enrollment, start=start, status=status)
    response = make_client(enrollment.teacher).post(URL, body(enrollment, start))
    assert response.status_code == 201


@pytest.mark.django_db
def test_cancelling_frees_the_slot(make_client, enrollment):
    start = in_hours(48)
    client = make_client(enrollment.teacher)
    first = client.post(URL, body(enrollment, start)).json()
    assert client.post(URL, body(enrollment, start)).status_code == 409
    assert client.post(f"{URL}{first['id']}/cancel/", {"reason": "ill"}).status_code == 200
    assert client.post(URL, body(enrollment, start)).status_code == 201


@pytest.mark.django_db
def test_invalid_input_is_400_with_fields(make_client, enrollment):
    response = make_client(enrollment.teacher).post(URL, {"student": "x", "start": "yesterday"})
    assert response.status_code == 400
    assert {"student", "subject", "start", "end"} <= set(response.json()["fields"])
