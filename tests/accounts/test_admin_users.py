"""`/api/admin/users/`: admin-only CRUD with role and profile, deactivation, password reset."""

import pytest
from knox.models import AuthToken

from accounts.models import Role, StudentProfile, TeacherProfile, User
from tests.accounts.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
)

pytestmark = pytest.mark.django_db

USERS = "/api/admin/users/"


def detail(user_or_id) -> str:
    return f"{USERS}{getattr(user_or_id, 'pk', user_or_id)}/"


@pytest.fixture
def admin_client(make_client, admin_user):
    return make_client(admin_user)


# --- Permissions -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory, TutorFactory, ParentFactory])
def test_non_admins_get_403_everywhere(make_client, factory):
    client = make_client(factory())
    target = StudentFactory()
    calls = [
        client.get(USERS),
        client.post(USERS, {"email": "x@example.test", "role": "student"}, format="json"),
        client.get(detail(target)),
        client.patch(detail(target), {"first_name": "X"}, format="json"),
        client.delete(detail(target)),
        client.post(detail(target) + "reset-password/"),
    ]
    for response in calls:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    target.refresh_from_db()
    assert target.is_active and target.first_name != "X"
    assert not User.objects.filter(email="x@example.test").exists()


def test_anonymous_gets_401(api_client, admin_user):
    assert api_client.get(USERS).status_code == 401
    assert api_client.get(detail(admin_user)).status_code == 401


def test_only_the_admin_role_makes_a_superuser(make_client):
    # Staff and superuser follow the role (accounts.models.RoleAdminFlag): a teacher asked to be one is not.
    teacher = TeacherFactory(is_superuser=True, is_staff=True)
    teacher.refresh_from_db()
    assert not (teacher.is_superuser or teacher.is_staff or teacher.is_admin)
    assert make_client(teacher).get(USERS).status_code == 403


# --- List ------------------------------------------------------------------------------------------------
def test_list_is_paginated_with_profiles(admin_client, admin_user):
    tutor = TutorFactory()
    student = StudentFactory()
    student.student_profile.tutor = tutor
    student.student_profile.save()

    body = admin_client.get(USERS).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert [user["id"] for user in body["results"]] == [admin_user.pk, tutor.pk, student.pk]
    assert body["results"][2]["profile"]["tutor"]["id"] == tutor.pk


def test_list_filters_and_search(admin_client):
    TeacherFactory(first_name="Zelda", email="zelda@example.test")
    teacher = TeacherFactory(first_name="Bob")
    inactive = TeacherFactory(is_active=False)
    StudentFactory(last_name="Zelda-Jones")

    def ids(query):
        return {user["id"] for user in admin_client.get(USERS + query).json()["results"]}

    assert ids("?role=teacher&is_active=true") == {User.objects.get(first_name="Zelda").pk, teacher.pk}
    assert ids("?is_active=false") == {inactive.pk}
    assert ids("?search=zelda") == {
        User.objects.get(first_name="Zelda").pk,
        User.objects.get(last_name="Zelda-Jones").pk,
    }
    assert ids("?search=zelda&role=student") == {User.objects.get(last_name="Zelda-Jones").pk}


def test_list_bad_filter_and_page_size(admin_client):
    response = admin_client.get(USERS + "?role=wizard")
    assert response.status_code == 400
    assert "role" in response.json()["fields"]
    StudentFactory.create_batch(3)
    body = admin_client.get(USERS + "?page_size=2&ordering=-id").json()
    assert len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["id"] > body["results"][1]["id"]
    assert admin_client.get(USERS + "?page=99").status_code == 404


# --- Create ----------------------------------------------------------------------------------------------
def test_create_without_password_returns_a_temporary_one_once(admin_client, api_client):
    response = admin_client.post(
        USERS,
        {"email": "New.Teacher@Example.test", "first_name": "N", "last_name": "T", "role": "teacher"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    temporary = body["temporary_password"]
    assert temporary and len(temporary) >= 12
    assert body["email"] == "new.teacher@example.test"
    assert body["profile"] == {"bio": "", "experience_years": 0, "subjects": []}
    user = User.objects.get(pk=body["id"])
    assert TeacherProfile.objects.filter(user=user).exists()
    assert temporary not in user.password
    # Shown once: never in later reads.
    assert "temporary_password" not in admin_client.get(detail(user)).json()
    assert "temporary_password" not in str(admin_client.get(USERS).json())
    login = api_client.post("/api/auth/login/", {"email": user.email, "password": temporary}, format="json")
    assert login.status_code == 200


def test_create_with_password_returns_no_temporary_one(admin_client, api_client):
    response = admin_client.post(
        USERS, {"email": "p@example.test", "password": "chosen-secret-4242", "role": "parent"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["temporary_password"] is None
    assert response.json()["profile"] == {"children": []}
    login = {"email": "p@example.test", "password": "chosen-secret-4242"}
    assert api_client.post("/api/auth/login/", login, format="json").status_code == 200


def test_create_admin_is_staff(admin_client):
    response = admin_client.post(USERS, {"email": "a2@example.test", "role": "admin"}, format="json")
    assert response.status_code == 201
    assert response.json()["profile"] is None
    assert User.objects.get(email="a2@example.test").is_staff


def test_create_student_with_links_and_profile(admin_client):
    tutor, parent = TutorFactory(), ParentFactory()
    response = admin_client.post(
        USERS,
        {
            "email": "kid@example.test",
            "role": "student",
            "timezone": "Asia/Tokyo",
            "profile": {"grade": 5, "goal": "Read", "tutor": tutor.pk, "parent": parent.pk},
        },
        format="json",
    )
    assert response.status_code == 201
    profile = StudentProfile.objects.get(user__email="kid@example.test")
    assert (profile.grade, profile.goal, profile.tutor, profile.parent) == (5, "Read", tutor, parent)
    assert response.json()["timezone"] == "Asia/Tokyo"


def test_student_created_without_links_then_linked_by_patch(admin_client):
    response = admin_client.post(USERS, {"email": "solo@example.test", "role": "student"}, format="json")
    assert response.status_code == 201
    assert response.json()["profile"]["tutor"] is None
    assert response.json()["profile"]["parent"] is None
    student_id = response.json()["id"]
    tutor, parent = TutorFactory(), ParentFactory()

    links = {"profile": {"tutor": tutor.pk, "parent": parent.pk}}
    linked = admin_client.patch(detail(student_id), links, format="json")

    assert linked.status_code == 200
    assert linked.json()["profile"]["tutor"]["id"] == tutor.pk
    assert linked.json()["profile"]["parent"]["id"] == parent.pk
    unlinked = admin_client.patch(detail(student_id), {"profile": {"tutor": None}}, format="json")
    assert unlinked.json()["profile"]["tutor"] is None
    assert unlinked.json()["profile"]["parent"]["id"] == parent.pk


@pytest.mark.parametrize("field, wrong_factory", [("tutor", TeacherFactory), ("parent", TutorFactory)])
def test_wrong_role_links_are_refused_on_create_and_patch(admin_client, field, wrong_factory):
    wrong = wrong_factory()
    created = admin_client.post(
        USERS, {"email": "w@example.test", "role": "student", "profile": {field: wrong.pk}}, format="json"
    )
    assert created.status_code == 400
    assert created.json()["code"] == "wrong_role"
    assert set(created.json()["fields"]) == {field}
    assert not User.objects.filter(email="w@example.test").exists()

    student = StudentFactory()
    patched = admin_client.patch(detail(student), {"profile": {field: wrong.pk}}, format="json")
    assert patched.status_code == 400
    assert patched.json()["code"] == "wrong_role"
    profile = StudentProfile.objects.get(user=student)
    assert getattr(profile, f"{field}_id") is None


def test_link_to_a_missing_user_is_400(admin_client):
    response = admin_client.post(
        USERS, {"email": "m@example.test", "role": "student", "profile": {"tutor": 999999}}, format="json"
    )
    assert response.status_code == 400
    assert "profile" in response.json()["fields"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"role": "student"}, "email"),
        ({"email": "not-an-email", "role": "student"}, "email"),
        ({"email": "r@example.test"}, "role"),
        ({"email": "r@example.test", "role": "wizard"}, "role"),
        ({"email": "r@example.test", "role": "student", "timezone": "Nowhere/City"}, "timezone"),
        ({"email": "r@example.test", "role": "student", "password": "123"}, "password"),
        ({"email": "r@example.test", "role": "teacher", "profile": {"grade": 3}}, "profile.grade"),
        ({"email": "r@example.test", "role": "admin", "profile": {"bio": "x"}}, "profile.bio"),
    ],
)
def test_create_invalid_input_is_400_with_fields(admin_client, payload, field):
    response = admin_client.post(USERS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not User.objects.filter(email="r@example.test").exists()


def test_create_duplicate_email_any_case_is_400(admin_client):
    StudentFactory(email="taken@example.test")
    response = admin_client.post(USERS, {"email": "TAKEN@example.test", "role": "tutor"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert set(response.json()["fields"]) == {"email"}


# --- Retrieve, update ------------------------------------------------------------------------------------
def test_retrieve_and_missing_user(admin_client):
    student = StudentFactory()
    assert admin_client.get(detail(student)).json()["id"] == student.pk
    response = admin_client.get(detail(999999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert admin_client.patch(detail(999999), {"first_name": "x"}, format="json").status_code == 404
    assert admin_client.delete(detail(999999)).status_code == 404
    assert admin_client.post(detail(999999) + "reset-password/").status_code == 404


def test_patch_updates_fields_and_email(admin_client):
    teacher = TeacherFactory()
    response = admin_client.patch(
        detail(teacher),
        {"email": "Renamed@Example.test", "first_name": "R", "profile": {"bio": "B", "experience_years": 3}},
        format="json",
    )
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert (teacher.email, teacher.first_name) == ("renamed@example.test", "R")
    assert (teacher.teacher_profile.bio, teacher.teacher_profile.experience_years) == ("B", 3)


@pytest.mark.parametrize(
    "payload",
    [{"role": "admin"}, {"is_staff": True}, {"is_superuser": True}, {"password": "x-secret-123456"}],
)
def test_patch_refuses_role_staff_and_password(admin_client, payload):
    student = StudentFactory()
    response = admin_client.patch(detail(student), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(payload)
    fresh = User.objects.get(pk=student.pk)
    assert (fresh.role, fresh.is_staff, fresh.is_superuser, fresh.password) == (
        Role.STUDENT,
        False,
        False,
        student.password,
    )


def test_patch_email_taken_is_400(admin_client):
    StudentFactory(email="first@example.test")
    second = StudentFactory()
    response = admin_client.patch(detail(second), {"email": "FIRST@example.test"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"


def test_patch_deactivation_revokes_tokens_and_reactivation_works(admin_client, make_client):
    student = StudentFactory()
    student_client = make_client(student)
    assert admin_client.patch(detail(student), {"is_active": False}, format="json").status_code == 200
    assert student_client.get("/api/profile/me/").status_code == 401
    assert not AuthToken.objects.filter(user=student).exists()
    assert admin_client.patch(detail(student), {"is_active": True}, format="json").json()["is_active"] is True


def test_put_is_not_allowed(admin_client):
    student = StudentFactory()
    response = admin_client.put(detail(student), {"first_name": "X"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- Deactivate, reset password --------------------------------------------------------------------------
def test_delete_deactivates_and_revokes(admin_client, make_client, api_client):
    student = StudentFactory()
    student_client = make_client(student)

    response = admin_client.delete(detail(student))

    assert response.status_code == 204
    student.refresh_from_db()
    assert student.is_active is False
    assert StudentProfile.objects.filter(user=student).exists()
    assert student_client.get("/api/profile/me/").status_code == 401
    login = {"email": student.email, "password": DEFAULT_PASSWORD}
    assert api_client.post("/api/auth/login/", login, format="json").status_code == 401
    assert admin_client.get(detail(student)).json()["is_active"] is False


def test_reset_password_gives_a_new_temporary_password_and_signs_out(admin_client, make_client, api_client):
    student = StudentFactory()
    student_client = make_client(student)

    response = admin_client.post(detail(student) + "reset-password/")

    assert response.status_code == 200
    temporary = response.json()["temporary_password"]
    assert student_client.get("/api/profile/me/").status_code == 401
    login = {"email": student.email, "password": temporary}
    assert api_client.post("/api/auth/login/", login, format="json").status_code == 200
    assert admin_client.get(detail(student) + "reset-password/").status_code == 405


def test_admin_can_manage_other_admins(admin_client):
    other = AdminFactory()
    assert admin_client.get(detail(other)).json()["role"] == "admin"


def test_an_admin_cannot_deactivate_themselves(make_client, admin_user):
    client = make_client(admin_user)
    for response in (
        client.delete(detail(admin_user)),
        client.patch(detail(admin_user), {"is_active": False}, format="json"),
    ):
        assert response.status_code == 400
        assert response.json()["code"] == "cannot_deactivate_self"
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert client.get(USERS).status_code == 200
    # Another admin may.
    assert make_client(AdminFactory()).delete(detail(admin_user)).status_code == 204
