"""Model-level rules: profiles made with their user, database triggers on student links, createsuperuser."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction

from accounts.models import ParentProfile, Role, StudentProfile, TeacherProfile, TutorProfile, User
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TeacherFactory, TutorFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory, profile_model",
    [
        (StudentFactory, StudentProfile),
        (TeacherFactory, TeacherProfile),
        (TutorFactory, TutorProfile),
        (ParentFactory, ParentProfile),
    ],
)
def test_a_profile_is_created_with_its_user(factory, profile_model):
    user = factory()
    assert profile_model.objects.filter(user=user).count() == 1
    others = {StudentProfile, TeacherProfile, TutorProfile, ParentProfile} - {profile_model}
    assert not any(model.objects.filter(user=user).exists() for model in others)


def test_admin_has_no_profile_and_is_staff():
    admin = AdminFactory()
    assert admin.is_staff and admin.is_admin
    assert not StudentProfile.objects.filter(user=admin).exists()


def test_email_is_normalised_and_unique_case_insensitively_for_login():
    user = User.objects.create_user("Mixed.Case@Example.TEST", "pw-pw-pw-pw-12")
    assert user.email == "mixed.case@example.test"
    assert User.objects.get_by_natural_key("MIXED.case@example.test") == user
    # Even a raw insert cannot add a second spelling of the same address.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="MIXED.CASE@example.test")


@pytest.mark.parametrize("field, wrong_factory", [("tutor", TeacherFactory), ("parent", StudentFactory)])
def test_database_refuses_a_wrong_role_link_on_update(field, wrong_factory):
    """A raw ORM save that skips the service is stopped by the trigger, on SQLite and PostgreSQL alike."""
    profile = StudentFactory().student_profile
    setattr(profile, field, wrong_factory())
    with pytest.raises(DatabaseError, match="student_link_role"), transaction.atomic():
        profile.save()
    assert getattr(StudentProfile.objects.get(pk=profile.pk), f"{field}_id") is None


def test_database_refuses_a_wrong_role_link_on_insert():
    teacher = TeacherFactory()
    # A student user whose profile row is inserted by hand (no manager), with a teacher as tutor.
    student = User.objects.create(email="raw@example.test", role=Role.STUDENT)
    with pytest.raises(DatabaseError, match="student_link_role"), transaction.atomic():
        StudentProfile.objects.create(user=student, tutor=teacher)
    with pytest.raises(DatabaseError, match="student_link_role"), transaction.atomic():
        StudentProfile.objects.bulk_create([StudentProfile(user=student, parent=teacher)])
    assert not StudentProfile.objects.filter(user=student).exists()
    StudentProfile.objects.create(user=student, tutor=TutorFactory(), parent=ParentFactory())


def test_database_refuses_changing_the_role_of_a_linked_tutor():
    tutor = TutorFactory()
    profile = StudentFactory().student_profile
    profile.tutor = tutor
    profile.save()
    with pytest.raises(DatabaseError, match="student_link_role"), transaction.atomic():
        User.objects.filter(pk=tutor.pk).update(role=Role.TEACHER)
    assert User.objects.get(pk=tutor.pk).role == Role.TUTOR
    # An unlinked user's role can change (other fields of a linked one too).
    User.objects.filter(pk=TutorFactory().pk).update(role=Role.TEACHER)
    User.objects.filter(pk=tutor.pk).update(first_name="Still a tutor")


def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-secret-password-1")
    call_command("createsuperuser", interactive=False, email="Root@Example.test", verbosity=0)

    user = User.objects.get(email="root@example.test")
    assert user.role == Role.ADMIN
    assert user.is_superuser and user.is_staff and user.is_admin
    assert user.check_password("root-secret-password-1")
