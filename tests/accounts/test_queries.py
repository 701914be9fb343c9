"""Exact query counts: fixed per request whatever the role and the number of users."""

import pytest

from tests.accounts.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db

# The token by its digest, with its user (accounts.authentication).
AUTH_QUERIES = 1
# The user with every profile and its links in one join, then children and teaching enrollments prefetched (the
# admin's user detail, the login).
PROFILE_QUERIES = 3
# The admin's users list (accounts.readers): the page of users with every profile and its links in one join, then
# every profile's lists (children, teaching enrollments) in one UNION ALL.
LIST_PROFILE_QUERIES = 2
# One user of a known role: the user with that role's profile and links, then its list (subjects, children).
OWN_PROFILE_QUERIES = {"student": 1, "teacher": 2, "tutor": 1, "parent": 2, "admin": 1}


def mixed_users(count: int) -> None:
    """`count` users of mixed roles with links, enrollments and children, so every profile branch is loaded."""
    subject = SubjectFactory(name=f"Subject {count}")
    factories = [StudentFactory, TeacherFactory, TutorFactory, ParentFactory, AdminFactory]
    users = [factories[number % len(factories)]() for number in range(count)]
    tutors = [user for user in users if user.role == "tutor"] or [TutorFactory()]
    parents = [user for user in users if user.role == "parent"] or [ParentFactory()]
    teachers = [user for user in users if user.role == "teacher"] or [TeacherFactory()]
    for number, student in enumerate(user for user in users if user.role == "student"):
        link_student(student, tutor=tutors[number % len(tutors)], parent=parents[number % len(parents)])
        EnrollmentFactory(student=student, subject=subject, teacher=teachers[number % len(teachers)])


@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory, TutorFactory, ParentFactory, AdminFactory])
@pytest.mark.parametrize("others", [0, 12])
def test_me_is_a_fixed_number_of_queries_for_every_role(make_client, django_assert_num_queries, factory, others):
    user = factory()
    client = make_client(user)
    if others:
        mixed_users(others)
        subject = SubjectFactory(name="Extra")
        if user.role == "teacher":
            for student in StudentFactory.create_batch(3):
                EnrollmentFactory(student=student, subject=subject, teacher=user)
        if user.role in ("tutor", "parent"):
            for student in StudentFactory.create_batch(3):
                link_student(student, **{user.role: user})
        if user.role == "student":
            link_student(user, tutor=TutorFactory(), parent=ParentFactory())

    with django_assert_num_queries(AUTH_QUERIES + OWN_PROFILE_QUERIES[user.role]):
        response = client.get("/api/profile/me/")
    with django_assert_num_queries(AUTH_QUERIES):  # warm: from the cache (core/caching.py)
        assert client.get("/api/profile/me/").json() == response.json()

    assert response.status_code == 200
    profile = response.json()["profile"]
    if others and user.role == "teacher":
        assert [subject["name"] for subject in profile["subjects"]] == ["Extra"]
    if others and user.role in ("tutor", "parent"):
        assert profile is not None and (user.role == "tutor" or len(profile["children"]) == 3)
    if others and user.role == "student":
        assert profile["tutor"]["role"] == "tutor" and profile["parent"]["role"] == "parent"


@pytest.mark.parametrize("count", [1, 30])
def test_admin_users_list_is_a_fixed_number_of_queries(make_client, django_assert_num_queries, count):
    admin = AdminFactory()
    client = make_client(admin)
    if count > 1:
        mixed_users(count - 1)

    # Auth, COUNT(*), the page of users with their profiles, children and teaching enrollments together.
    with django_assert_num_queries(AUTH_QUERIES + 1 + LIST_PROFILE_QUERIES):
        response = client.get("/api/admin/users/?page_size=100")

    assert response.status_code == 200
    assert response.json()["count"] == count
    assert len(response.json()["results"]) == count


def test_admin_user_detail_is_a_fixed_number_of_queries(make_client, django_assert_num_queries):
    client = make_client(AdminFactory())
    mixed_users(10)
    parent = ParentFactory()
    for student in StudentFactory.create_batch(5):
        link_student(student, parent=parent)

    with django_assert_num_queries(AUTH_QUERIES + PROFILE_QUERIES):
        response = client.get(f"/api/admin/users/{parent.pk}/")

    assert len(response.json()["profile"]["children"]) == 5


@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory, TutorFactory, ParentFactory, AdminFactory])
def test_login_is_a_fixed_number_of_queries_for_every_role(api_client, django_assert_num_queries, factory):
    user = factory(email=f"Someone.{factory.__name__}@Example.test")
    mixed_users(6)
    if user.role == "teacher":
        EnrollmentFactory(student=StudentFactory(), subject=SubjectFactory(name="Own"), teacher=user)
    if user.role == "parent":
        link_student(StudentFactory(), parent=user)
    if user.role == "student":
        link_student(user, tutor=TutorFactory(), parent=ParentFactory())
    # The user with every profile joined, found by LOWER(email) (its unique index); last_login; the new token;
    # then a teacher's subjects or a parent's children.
    expected = 3 + (user.role in ("teacher", "parent"))

    with django_assert_num_queries(expected) as captured:
        response = api_client.post(
            "/api/auth/login/", {"email": user.email.upper(), "password": DEFAULT_PASSWORD}, format="json"
        )

    assert response.status_code == 200, response.content
    lookup = captured.captured_queries[0]["sql"]
    assert 'LOWER("accounts_user"."email")' in lookup and "UPPER" not in lookup, lookup
    profile = response.json()["user"]["profile"]
    if user.role == "teacher":
        assert [subject["name"] for subject in profile["subjects"]] == ["Own"]
    if user.role == "parent":
        assert len(profile["children"]) == 1
    if user.role == "student":
        assert profile["tutor"] and profile["parent"]
