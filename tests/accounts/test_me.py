"""`/api/profile/me/` (GET, PATCH) and `/api/profile/me/password/`."""

import pytest
from knox.models import AuthToken

from accounts.models import Role, User
from config.throttling import ScopedRateThrottle
from tests.accounts.factories import (
    DEFAULT_PASSWORD,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory
from tests.shapes import person

pytestmark = pytest.mark.django_db

ME = "/api/profile/me/"
PASSWORD = "/api/profile/me/password/"
USER_FIELDS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "timezone",
    "phone",
    "telegram_linked",
    "is_active",
    "date_joined",
    "last_login",
    "profile",
}


def test_me_of_a_student_shows_links(make_client):
    tutor, parent = TutorFactory(), ParentFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    student.telegram_chat_id = 123456
    student.save()

    body = make_client(student).get(ME).json()

    assert set(body) == USER_FIELDS
    assert "telegram_chat_id" not in body and "password" not in body
    assert body["telegram_linked"] is True
    assert body["role"] == "student"
    assert body["profile"]["tutor"] == person(tutor)
    assert body["profile"]["parent"] == person(parent)
    assert set(body["profile"]) == {"grade", "goal", "tutor", "parent"}


def test_me_of_a_teacher_lists_subjects_of_active_enrollments(make_client):
    teacher = TeacherFactory()
    maths, physics, art = (SubjectFactory(name=name) for name in ("Maths", "Physics", "Art"))
    EnrollmentFactory(student=StudentFactory(), subject=physics, teacher=teacher)
    EnrollmentFactory(student=StudentFactory(), subject=maths, teacher=teacher)
    EnrollmentFactory(student=StudentFactory(), subject=maths, teacher=teacher)
    EnrollmentFactory(student=StudentFactory(), subject=art, teacher=teacher, is_active=False)

    profile = make_client(teacher).get(ME).json()["profile"]

    assert profile["subjects"] == [{"id": maths.pk, "name": "Maths"}, {"id": physics.pk, "name": "Physics"}]
    assert set(profile) == {"bio", "experience_years", "subjects"}


def test_me_of_a_parent_lists_children_and_of_a_tutor_the_bio(make_client):
    parent, tutor = ParentFactory(), TutorFactory()
    first, second = StudentFactory(), StudentFactory()
    link_student(first, parent=parent)
    link_student(second, parent=parent)
    StudentFactory()

    children = make_client(parent).get(ME).json()["profile"]["children"]
    assert [child["id"] for child in children] == [first.pk, second.pk]
    assert make_client(tutor).get(ME).json()["profile"] == {"bio": ""}


def test_me_of_an_admin_has_no_profile(make_client, admin_user):
    body = make_client(admin_user).get(ME).json()
    assert body["role"] == "admin"
    assert body["profile"] is None


def test_patch_me_changes_own_fields_and_profile(make_client):
    student = StudentFactory()
    client = make_client(student)

    response = client.patch(
        ME,
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "timezone": "Europe/Moscow",
            "phone": "+7 900 000-00-00",
            "profile": {"grade": 9, "goal": "Pass the exam"},
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["timezone"], body["profile"]["grade"]) == ("Ann", "Europe/Moscow", 9)
    student.refresh_from_db()
    assert (student.first_name, student.last_name, student.phone) == ("Ann", "Lee", "+7 900 000-00-00")
    assert (student.student_profile.grade, student.student_profile.goal) == (9, "Pass the exam")


def test_patch_me_teacher_profile(make_client):
    teacher = TeacherFactory()
    response = make_client(teacher).patch(ME, {"profile": {"bio": "Maths", "experience_years": 7}}, format="json")
    assert response.status_code == 200
    teacher.teacher_profile.refresh_from_db()
    assert (teacher.teacher_profile.bio, teacher.teacher_profile.experience_years) == ("Maths", 7)


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "admin"},
        {"email": "new@example.test"},
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": False},
    ],
)
def test_patch_me_refuses_protected_fields_and_changes_nothing(make_client, payload):
    student = StudentFactory(first_name="Old")
    client = make_client(student)

    response = client.patch(ME, {**payload, "first_name": "New"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == set(payload)
    fresh = User.objects.get(pk=student.pk)
    assert (fresh.role, fresh.email, fresh.is_staff, fresh.is_superuser, fresh.is_active, fresh.first_name) == (
        Role.STUDENT,
        student.email,
        False,
        False,
        True,
        "Old",
    )


def test_student_cannot_set_own_tutor_or_parent(make_client):
    student, tutor = StudentFactory(), TutorFactory()
    response = make_client(student).patch(ME, {"profile": {"tutor": tutor.pk}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "read_only_field"
    assert "profile.tutor" in response.json()["fields"]
    student.student_profile.refresh_from_db()
    assert student.student_profile.tutor is None


def test_fields_of_another_role_profile_are_refused(make_client, admin_user):
    response = make_client(TeacherFactory()).patch(ME, {"profile": {"grade": 5}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"profile.grade"}
    # An admin has no profile: a profile field is refused, not silently dropped.
    response = make_client(admin_user).patch(ME, {"first_name": "A", "profile": {"bio": "x"}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"profile.bio"}
    admin_user.refresh_from_db()
    assert admin_user.first_name != "A"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"profile": {"grade": 13}}, "profile"),
        ({"profile": {"grade": "ninth"}}, "profile"),
    ],
)
def test_patch_me_invalid_values_are_400_with_fields(make_client, payload, field):
    student = StudentFactory()
    response = make_client(student).patch(ME, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_me_needs_a_token_and_refuses_other_methods(api_client, make_client):
    assert api_client.get(ME).status_code == 401
    assert api_client.patch(ME, {"first_name": "X"}, format="json").status_code == 401
    client = make_client(StudentFactory())
    for method in (client.post, client.put, client.delete):
        response = method(ME, {}, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"


# --- Password change -------------------------------------------------------------------------------------
def test_password_change_keeps_this_session_and_revokes_the_others(make_client, api_client):
    student = StudentFactory()
    current, other = make_client(student), make_client(student)
    bystander = make_client(StudentFactory())

    response = current.post(
        PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": "a-much-better-secret-77"}, format="json"
    )

    assert response.status_code == 204
    assert current.get(ME).status_code == 200
    assert other.get(ME).status_code == 401
    assert bystander.get(ME).status_code == 200
    assert AuthToken.objects.filter(user=student).count() == 1
    login = "/api/auth/login/"
    assert api_client.post(login, {"email": student.email, "password": DEFAULT_PASSWORD}).status_code == 401
    new_login = {"email": student.email, "password": "a-much-better-secret-77"}
    assert api_client.post(login, new_login).status_code == 200


def test_password_change_wrong_old_password(make_client):
    student = StudentFactory()
    client, other = make_client(student), make_client(student)
    response = client.post(PASSWORD, {"old_password": "nope", "new_password": "a-much-better-secret-77"})
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_password"
    assert set(response.json()["fields"]) == {"old_password"}
    assert other.get(ME).status_code == 200
    student.refresh_from_db()
    assert student.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("new_password", ["short", "12345678901", "password123"])
def test_password_change_weak_password(make_client, new_password):
    student = StudentFactory()
    response = make_client(student).post(PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": new_password})
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    student.refresh_from_db()
    assert student.check_password(DEFAULT_PASSWORD)


def test_password_change_missing_fields_and_auth(make_client, api_client):
    response = make_client(StudentFactory()).post(PASSWORD, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"old_password", "new_password"}
    assert api_client.post(PASSWORD, {"old_password": "a", "new_password": "b"}).status_code == 401


def test_password_change_is_throttled(make_client, settings, monkeypatch):
    # DRF binds the rates to the throttle class when it is imported, so the override goes there.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_change": "2/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    client = make_client(StudentFactory())
    for _ in range(2):
        assert client.post(PASSWORD, {"old_password": "nope", "new_password": "x"}).status_code == 400
    response = client.post(PASSWORD, {"old_password": "nope", "new_password": "x"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
