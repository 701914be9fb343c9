"""accounts.readers renders users exactly as UserSerializer does: the admin's users list and `/api/profile/me/` are
read as columns, and their JSON must stay the serializer's, key for key and byte for byte."""

import json
from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role, StudentProfile, TeacherProfile, User
from accounts.readers import render_users, user_rows
from accounts.selectors import user_for_profile, with_profiles
from accounts.serializers import UserSerializer
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    UserFactory,
    link_student,
)
from tests.accounts.test_queries import mixed_users
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db


def as_json(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def serializer_output(users) -> list[dict]:
    return UserSerializer(with_profiles(users), many=True).data


def awkward_users() -> None:
    """Every branch of a profile: no names (the email's local part shows), a student without links, a teacher with
    two active enrollments of one subject and an inactive one, a parent with children in any id order, a linked
    Telegram chat, a last login, an inactive user, a user whose profile row is missing."""
    teacher = TeacherFactory(first_name="", last_name="", telegram_chat_id=777)
    maths, art = SubjectFactory(name="Maths"), SubjectFactory(name="Art")
    for subject in (maths, maths, art):
        EnrollmentFactory(student=StudentFactory(), subject=subject, teacher=teacher)
    EnrollmentFactory(student=StudentFactory(), subject=SubjectFactory(name="Gone"), teacher=teacher, is_active=False)
    TeacherProfile.objects.filter(user=teacher).update(bio='Ünïcode ✓ "quoted"', experience_years=7)
    parent = ParentFactory(first_name=" ", last_name="")
    for student in reversed(StudentFactory.create_batch(3, first_name="", last_name="Solo")):
        link_student(student, parent=parent)
    StudentFactory(is_active=False)
    loner = StudentFactory()
    StudentProfile.objects.filter(user=loner).update(grade=None, goal="")
    User.objects.filter(pk=loner.pk).update(last_login=datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC))
    orphan = TutorFactory()
    orphan.tutor_profile.delete()
    AdminFactory(first_name="Ädmin")


def test_the_admin_users_list_is_the_serializers_output(make_client):
    admin = AdminFactory()
    mixed_users(14)
    awkward_users()
    client = make_client(admin)

    for query in ("", "&role=teacher", "&role=parent", "&ordering=-last_name", "&search=solo", "&is_active=false"):
        response = client.get(f"/api/admin/users/?page_size=100{query}")
        assert response.status_code == 200, response.content
        results = response.json()["results"]
        ids = [user["id"] for user in results]
        users = User.objects.filter(pk__in=ids)
        expected = sorted(serializer_output(users), key=lambda user: ids.index(user["id"]))
        assert as_json(results) == as_json(expected), query
    assert response.json()["count"] >= 1


def test_pages_of_the_admin_users_list_are_the_serializers_output(make_client):
    admin = AdminFactory()
    mixed_users(25)
    client = make_client(admin)

    seen = []
    for page in (1, 2, 3):
        results = client.get(f"/api/admin/users/?page_size=10&page={page}").json()["results"]
        expected = serializer_output(User.objects.filter(pk__in=[user["id"] for user in results]).order_by("id"))
        assert as_json(results) == as_json(expected)
        seen += [user["id"] for user in results]
    assert seen == list(User.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.parametrize("factory", [StudentFactory, TeacherFactory, TutorFactory, ParentFactory, AdminFactory])
def test_profile_me_is_the_serializers_output_for_every_role(make_client, factory):
    user = factory()
    awkward_users()
    if user.role == Role.TEACHER:
        EnrollmentFactory(student=StudentFactory(), subject=SubjectFactory(name="Own"), teacher=user)
    if user.role == Role.PARENT:
        link_student(StudentFactory(), parent=user)
    if user.role == Role.STUDENT:
        link_student(user, tutor=TutorFactory(first_name="", last_name=""), parent=ParentFactory())

    response = make_client(user).get("/api/profile/me/")

    assert response.status_code == 200
    expected = UserSerializer(user_for_profile(user.pk, user.role)).data
    assert as_json(response.json()) == as_json(expected)


def test_an_empty_page_renders_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render_users([]) == []


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    role=st.sampled_from(Role.values),
    first_name=names,
    last_name=names,
    grade=st.one_of(st.none(), st.integers(1, 12)),
    telegram=st.one_of(st.none(), st.integers(1, 2**40)),
    last_login=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    with_links=st.booleans(),
)
def test_any_user_renders_as_the_serializer_does(role, first_name, last_name, grade, telegram, last_login, with_links):
    with transaction.atomic():
        user = UserFactory(role=role, first_name=first_name, last_name=last_name)
        User.objects.filter(pk=user.pk).update(telegram_chat_id=telegram, last_login=last_login)
        if role == Role.STUDENT:
            StudentProfile.objects.filter(user=user).update(grade=grade)
            if with_links:
                link_student(user, tutor=TutorFactory(first_name=last_name), parent=ParentFactory(last_name=first_name))
        if role == Role.PARENT and with_links:
            link_student(StudentFactory(first_name=first_name, last_name=""), parent=user)
        if role == Role.TEACHER and with_links:
            EnrollmentFactory(student=StudentFactory(), subject=SubjectFactory(name=first_name or "x"), teacher=user)
        users = User.objects.filter(pk=user.pk)
        for known in (None, role):
            assert as_json(render_users(list(user_rows(users, known)), known)) == as_json(serializer_output(users))
        transaction.set_rollback(True)
