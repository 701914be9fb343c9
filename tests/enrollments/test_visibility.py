"""The one visibility rule (docs/architecture.md "Who sees whom"): `users_visible_to`, `students_of`, `can_see`."""

from types import SimpleNamespace

import pytest

from accounts.models import User
from enrollments.models import Enrollment
from enrollments.visibility import can_see, is_student_of, student_ids_of, students_of, users_visible_to
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def school():
    """Two classes that must not see into each other.

    - amy: taught maths by ted and physics by tess; tutor tim; parent pam.
    - bob: taught maths by ted; tutor tim; no parent.
    - cat: taught by tom only; tutor tara; parent pat.
    - dan: was taught by ted, the enrollment ended (inactive); tutor tara; parent pat.
    - eve: a student with no links at all.
    """
    maths, physics = SubjectFactory(name="Maths"), SubjectFactory(name="Physics")
    ted, tess, tom = TeacherFactory(), TeacherFactory(), TeacherFactory()
    tim, tara = TutorFactory(), TutorFactory()
    pam, pat = ParentFactory(), ParentFactory()
    amy = link_student(StudentFactory(), tutor=tim, parent=pam)
    bob = link_student(StudentFactory(), tutor=tim)
    cat = link_student(StudentFactory(), tutor=tara, parent=pat)
    dan = link_student(StudentFactory(), tutor=tara, parent=pat)
    eve = StudentFactory()
    EnrollmentFactory(student=amy, subject=maths, teacher=ted)
    EnrollmentFactory(student=amy, subject=physics, teacher=tess)
    EnrollmentFactory(student=bob, subject=maths, teacher=ted)
    EnrollmentFactory(student=cat, subject=maths, teacher=tom)
    EnrollmentFactory(student=dan, subject=physics, teacher=ted, is_active=False)
    admin = AdminFactory()
    return SimpleNamespace(**locals())


def visible(user) -> set[User]:
    users = list(users_visible_to(user))
    assert len(users) == len(set(users)), "users_visible_to returned duplicates"
    return set(users)


def test_student_sees_themself_their_teachers_tutor_and_parent(school):
    s = school
    assert visible(s.amy) == {s.amy, s.ted, s.tess, s.tim, s.pam}
    assert visible(s.bob) == {s.bob, s.ted, s.tim}
    # The inactive enrollment does not count: dan does not see ted.
    assert visible(s.dan) == {s.dan, s.tara, s.pat}
    assert visible(s.eve) == {s.eve}
    assert set(students_of(s.amy)) == {s.amy}


def test_teacher_sees_their_active_students_and_those_students_people(school):
    s = school
    assert set(students_of(s.ted)) == {s.amy, s.bob}
    # Not the colleague tess who also teaches amy, not dan (inactive), not cat (tom's student).
    assert visible(s.ted) == {s.ted, s.amy, s.bob, s.tim, s.pam}
    assert visible(s.tess) == {s.tess, s.amy, s.tim, s.pam}
    assert visible(s.tom) == {s.tom, s.cat, s.tara, s.pat}


def test_tutor_sees_their_students_and_those_students_teachers_and_parents(school):
    s = school
    assert set(students_of(s.tim)) == {s.amy, s.bob}
    assert visible(s.tim) == {s.tim, s.amy, s.bob, s.ted, s.tess, s.pam}
    # dan's only enrollment is inactive: ted is not among tara's people.
    assert visible(s.tara) == {s.tara, s.cat, s.dan, s.tom, s.pat}


def test_parent_sees_their_children_and_the_childrens_teachers_and_tutor(school):
    s = school
    assert set(students_of(s.pam)) == {s.amy}
    assert visible(s.pam) == {s.pam, s.amy, s.ted, s.tess, s.tim}
    assert visible(s.pat) == {s.pat, s.cat, s.dan, s.tom, s.tara}


def test_admin_sees_everyone(school):
    assert visible(school.admin) == set(User.objects.all())
    assert set(students_of(school.admin)) == {school.amy, school.bob, school.cat, school.dan, school.eve}


def test_a_teacher_never_becomes_a_superuser_who_sees_everyone(school):
    # Superuser status follows the admin role (accounts.models.RoleAdminFlag).
    teacher = TeacherFactory(is_superuser=True)
    assert not teacher.is_superuser
    assert visible(teacher) == {teacher}


def test_a_student_of_another_teacher_is_not_visible(school):
    s = school
    assert not can_see(s.ted, s.cat)
    assert not can_see(s.tom, s.amy)
    assert not is_student_of(s.ted, s.cat)
    assert not is_student_of(s.ted, s.dan)
    assert is_student_of(s.ted, s.amy.pk)


def test_a_parent_of_another_student_is_not_visible(school):
    s = school
    assert not can_see(s.amy, s.pat)
    assert not can_see(s.pam, s.pat)
    assert not can_see(s.ted, s.pat)
    assert not can_see(s.tim, s.pat)
    assert can_see(s.tara, s.pat)
    assert not can_see(s.pam, s.bob)


def test_can_see_matches_users_visible_to_for_every_pair(school):
    everyone = list(User.objects.all())
    for viewer in everyone:
        seen = visible(viewer)
        for other in everyone:
            assert can_see(viewer, other) == (other in seen), (viewer, other)
            assert can_see(viewer, other.pk) == (other in seen)


def test_reactivated_enrollment_and_new_links_are_seen_at_once(school):
    s = school
    Enrollment.objects.filter(student=s.dan, teacher=s.ted).update(is_active=True)
    assert s.dan in set(students_of(s.ted))
    link_student(s.eve, parent=s.pam)
    assert s.eve in visible(s.pam)


def test_student_ids_of_is_a_subquery_usable_in_filters(school, django_assert_num_queries):
    with django_assert_num_queries(1):
        students = set(User.objects.filter(pk__in=student_ids_of(school.tim)))
    assert students == {school.amy, school.bob}


def test_users_visible_to_is_a_single_query(school, django_assert_num_queries):
    for viewer in (school.amy, school.ted, school.tim, school.pam, school.admin):
        with django_assert_num_queries(1):
            list(users_visible_to(viewer))
