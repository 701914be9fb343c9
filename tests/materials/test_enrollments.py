"""Enrollments: created by admins or the student's tutor, roles checked, one active per student and subject."""

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from enrollments.models import Enrollment
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def physics(db):
    return SubjectFactory(name="Physics")


def _enroll(client, student, subject, teacher, **extra):
    return client.post(
        "/api/materials/enrollments/",
        {"student": student.pk, "subject": subject.pk, "teacher": teacher.pk, **extra},
    )


def test_admin_enrolls(make_client, room, physics):
    response = _enroll(make_client(room.admin), room.s3, physics, room.teacher, started_at="2026-09-01")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["student"]["id"] == room.s3.pk
    assert body["teacher"]["id"] == room.teacher.pk
    assert body["subject"] == {"id": physics.pk, "name": "Physics"}
    assert body["is_active"] is True
    assert body["started_at"] == "2026-09-01"
    assert body["ended_at"] is None


def test_tutor_enrolls_their_student(make_client, room, physics):
    response = _enroll(make_client(room.tutor), room.s1, physics, room.other_teacher)
    assert response.status_code == 201, response.json()
    assert response.json()["started_at"] == timezone.localdate().isoformat()
    assert Enrollment.objects.filter(student=room.s1, subject=physics, teacher=room.other_teacher).exists()


def test_tutor_cannot_enroll_another_tutors_student(make_client, room, physics):
    # Same answer as for an unknown id: the tutor cannot probe who exists.
    foreign = _enroll(make_client(room.tutor), room.s2, physics, room.teacher)
    missing = make_client(room.tutor).post(
        "/api/materials/enrollments/", {"student": 999999, "subject": physics.pk, "teacher": room.teacher.pk}
    )
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert foreign.json()["code"] == "not_your_student"


@pytest.mark.parametrize("who", ["teacher", "s1", "parent"])
def test_others_cannot_enroll(make_client, room, physics, who):
    response = _enroll(make_client(getattr(room, who)), room.s1, physics, room.teacher)
    assert response.status_code == 403


def test_roles_are_checked(make_client, room, physics):
    client = make_client(room.admin)
    not_a_student = _enroll(client, room.teacher, physics, room.other_teacher)
    assert not_a_student.status_code == 400
    assert not_a_student.json()["code"] == "wrong_role"
    assert "student" in not_a_student.json()["fields"]
    not_a_teacher = _enroll(client, room.s3, physics, TutorFactory())
    assert not_a_teacher.status_code == 400
    assert "teacher" in not_a_teacher.json()["fields"]
    parent_as_teacher = _enroll(client, room.s3, physics, ParentFactory())
    assert parent_as_teacher.status_code == 400
    inactive_teacher = TeacherFactory(is_active=False)
    assert _enroll(client, room.s3, physics, inactive_teacher).status_code == 400
    unknown_subject = client.post(
        "/api/materials/enrollments/", {"student": room.s3.pk, "subject": 999999, "teacher": room.teacher.pk}
    )
    assert unknown_subject.status_code == 400
    assert "subject" in unknown_subject.json()["fields"]
    assert not Enrollment.objects.filter(subject=physics).exists()


def test_duplicate_active_enrollment_is_409(make_client, room):
    existing = room.s1.enrollments.get()
    response = _enroll(make_client(room.admin), room.s1, room.math, room.other_teacher)
    assert response.status_code == 409
    assert response.json()["code"] == "enrollment_exists"
    assert response.json()["enrollment"] == existing.pk


def test_the_database_refuses_two_active_enrollments(room):
    with pytest.raises(IntegrityError):
        EnrollmentFactory(student=room.s1, subject=room.math, teacher=room.other_teacher)


def test_deactivate_then_enroll_again(make_client, room):
    enrollment = room.s1.enrollments.get()
    client = make_client(room.tutor)
    response = client.patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False})
    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    assert response.json()["ended_at"] == timezone.localdate().isoformat()
    again = _enroll(client, room.s1, room.math, room.other_teacher)
    assert again.status_code == 201
    # Deactivating twice is harmless.
    assert client.patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False}).status_code == 200


def test_deactivate_with_a_date(make_client, room):
    enrollment = EnrollmentFactory(started_at=datetime.date(2026, 1, 10))
    client = make_client(room.admin)
    too_early = client.patch(
        f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False, "ended_at": "2026-01-01"}
    )
    assert too_early.status_code == 400
    assert "ended_at" in too_early.json()["fields"]
    ok = client.patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False, "ended_at": "2026-02-01"})
    assert ok.json()["ended_at"] == "2026-02-01"


def test_reopening_is_refused(make_client, room):
    enrollment = room.s1.enrollments.get()
    response = make_client(room.admin).patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": True})
    assert response.status_code == 400
    assert "is_active" in response.json()["fields"]


@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("s1", 403), ("parent", 403), ("other_parent", 403)])
def test_others_cannot_deactivate(make_client, room, who, status):
    enrollment = room.s1.enrollments.get()
    response = make_client(getattr(room, who)).patch(
        f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False}
    )
    assert response.status_code == status
    enrollment.refresh_from_db()
    assert enrollment.is_active


def test_another_tutor_cannot_see_or_deactivate(make_client, room):
    enrollment = room.s1.enrollments.get()
    other_tutor = TutorFactory()
    link_student(room.s3, tutor=other_tutor)
    client = make_client(other_tutor)
    assert client.patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False}).status_code == 404
    assert client.get(f"/api/materials/enrollments/{enrollment.pk}/").status_code == 404


def _students_listed(client, **params):
    response = client.get("/api/materials/enrollments/", params)
    assert response.status_code == 200
    return sorted(item["student"]["id"] for item in response.json()["results"])


def test_list_by_role(make_client, room):
    expected = {
        "admin": [room.s1.pk, room.s2.pk, room.s3.pk],
        "teacher": [room.s1.pk, room.s2.pk],
        "other_teacher": [room.s3.pk],
        "s1": [room.s1.pk],
        "tutor": [room.s1.pk],
        "parent": [room.s1.pk],
        "other_parent": [room.s3.pk],
    }
    for who, students in expected.items():
        assert _students_listed(make_client(getattr(room, who))) == sorted(students), who


def test_list_filters(make_client, room, physics):
    EnrollmentFactory(student=room.s1, subject=physics, teacher=room.other_teacher, is_active=False)
    client = make_client(room.admin)
    assert _students_listed(client, subject=physics.pk) == [room.s1.pk]
    assert _students_listed(client, teacher=room.other_teacher.pk) == sorted([room.s1.pk, room.s3.pk])
    assert _students_listed(client, student=room.s1.pk, is_active="true") == [room.s1.pk]
    assert _students_listed(client, is_active="false") == [room.s1.pk]


def test_a_teacher_sees_their_ended_enrollments_too(make_client, room):
    room.s1.enrollments.update(is_active=False)
    newcomer = StudentFactory()
    EnrollmentFactory(student=newcomer, subject=room.math, teacher=room.other_teacher)
    assert _students_listed(make_client(room.teacher)) == sorted([room.s1.pk, room.s2.pk])
