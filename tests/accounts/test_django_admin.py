"""The Django admin for users and profiles: list pages without per-row queries, the profile inline, add form."""

import pytest
from django.test import Client

from accounts.models import Role, StudentProfile, TeacherProfile, User
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_admin():
    user = AdminFactory(email="root@example.test", password="root-secret-password-1")
    client = Client()
    client.force_login(user)
    return client


def many_users(count: int) -> None:
    if not count:
        return
    tutor, parent = TutorFactory(), ParentFactory()
    for number in range(count):
        student = StudentFactory()
        if number % 2:
            link_student(student, tutor=tutor, parent=parent)
    TeacherFactory.create_batch(3)


# Session, the signed-in user, then the page's own queries (count for the paginator, the rows).
@pytest.mark.parametrize(
    "url, queries",
    [
        ("/admin/accounts/user/", 4),
        ("/admin/accounts/user/?role__exact=student&q=example", 4),
        ("/admin/accounts/studentprofile/", 6),  # + the tutor filter's list, no full count
    ],
)
@pytest.mark.parametrize("count", [1, 25])
def test_changelists_are_a_fixed_number_of_queries(site_admin, django_assert_num_queries, url, queries, count):
    StudentFactory()
    many_users(count - 1)

    with django_assert_num_queries(queries):
        response = site_admin.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_user_list_filters_by_role_and_searches(site_admin):
    TeacherFactory(email="findme-teacher@example.test")
    StudentFactory(email="findme-student@example.test")
    body = site_admin.get("/admin/accounts/user/?role__exact=teacher&q=findme").content.decode()
    assert "findme-teacher@example.test" in body
    assert "findme-student@example.test" not in body


def test_change_page_shows_the_profile_inline_of_the_role(site_admin):
    student = link_student(StudentFactory(), tutor=TutorFactory(), parent=ParentFactory())
    response = site_admin.get(f"/admin/accounts/user/{student.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="student_profile-0-grade"' in body
    assert 'name="student_profile-0-tutor"' in body
    teacher = TeacherFactory()
    body = site_admin.get(f"/admin/accounts/user/{teacher.pk}/change/").content.decode()
    assert 'name="teacher_profile' in body
    assert 'name="student_profile' not in body


def test_change_page_saves_the_inline(site_admin):
    teacher = TeacherFactory()
    page = site_admin.get(f"/admin/accounts/user/{teacher.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "email": "Teacher.Renamed@Example.test",
            "role": Role.TEACHER,
            "timezone": "UTC",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "on",
            "groups": [],
            "user_permissions": [],
            "teacher_profile-TOTAL_FORMS": "1",
            "teacher_profile-INITIAL_FORMS": "1",
            "teacher_profile-MIN_NUM_FORMS": "0",
            "teacher_profile-MAX_NUM_FORMS": "1",
            "teacher_profile-0-user": str(teacher.pk),
            "teacher_profile-0-bio": "Edited in the admin",
            "teacher_profile-0-experience_years": "4",
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)

    response = site_admin.post(f"/admin/accounts/user/{teacher.pk}/change/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    teacher.refresh_from_db()
    assert teacher.email == "teacher.renamed@example.test"
    profile = TeacherProfile.objects.get(user=teacher)
    assert (profile.bio, profile.experience_years) == ("Edited in the admin", 4)


def test_add_form_creates_the_user_with_its_profile(site_admin, client):
    response = site_admin.post(
        "/admin/accounts/user/add/",
        {
            "email": "Added@Example.test",
            "role": Role.STUDENT,
            "first_name": "Ad",
            "last_name": "Ded",
            "password1": "admin-made-secret-99",
            "password2": "admin-made-secret-99",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="added@example.test")
    assert user.role == Role.STUDENT
    assert StudentProfile.objects.filter(user=user).exists()
    assert user.check_password("admin-made-secret-99")
    assert response["Location"].startswith(f"/admin/accounts/user/{user.pk}/change/")


def test_add_form_refuses_a_taken_email(site_admin):
    StudentFactory(email="taken@example.test")
    response = site_admin.post(
        "/admin/accounts/user/add/",
        {
            "email": "TAKEN@example.test",
            "role": Role.TEACHER,
            "password1": "admin-made-secret-99",
            "password2": "admin-made-secret-99",
        },
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_non_staff_cannot_use_the_admin(client):
    student = StudentFactory()
    client.force_login(student)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_login_failures_are_limited_like_the_api_login(client, settings):
    staff = AdminFactory(email="boss@example.test", password="boss-secret-password-1")
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        response = client.post("/admin/login/", {"username": "BOSS@example.test", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/admin/login/", {"username": staff.email, "password": "boss-secret-password-1"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) >= 1
    # The API login shares the counters.
    api = client.post(
        "/api/auth/login/", {"email": staff.email, "password": "boss-secret-password-1"}, "application/json"
    )
    assert api.status_code == 429


def test_admin_login_success_is_not_counted(client, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    AdminFactory(email="boss@example.test", password="boss-secret-password-1")
    for _ in range(4):
        response = client.post("/admin/login/", {"username": "boss@example.test", "password": "boss-secret-password-1"})
        assert response.status_code == 302
        client.logout()


def test_users_and_profiles_cannot_be_deleted_or_role_changed_in_the_admin(site_admin):
    student = StudentFactory()
    assert site_admin.get(f"/admin/accounts/user/{student.pk}/delete/").status_code == 403
    assert site_admin.get(f"/admin/accounts/studentprofile/{student.pk}/delete/").status_code == 403
    assert site_admin.get("/admin/accounts/studentprofile/add/").status_code == 403
    page = site_admin.get(f"/admin/accounts/user/{student.pk}/change/")
    assert "role" not in page.context["adminform"].form.fields
    assert 'name="role"' in site_admin.get("/admin/accounts/user/add/").content.decode()
