"""The lesson list: visibility by role, filters with overlap semantics, order, and a fixed query count."""

from datetime import timedelta

import pytest

from scheduling.models import LessonStatus
from tests.accounts.factories import ParentFactory, StudentFactory, TeacherFactory, TutorFactory, link_student
from tests.materials.factories import EnrollmentFactory, SubjectFactory
from tests.scheduling.factories import in_hours, make_lesson

URL = "/api/scheduling/lessons/"


def ids(response):
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def two_classes(enrollment):
    """`enrollment`'s lesson, and a lesson of an unrelated student with another teacher."""
    mine = make_lesson(enrollment, start=in_hours(24))
    other_enrollment = EnrollmentFactory(student=StudentFactory(), teacher=TeacherFactory())
    link_student(other_enrollment.student, tutor=TutorFactory(), parent=ParentFactory())
    theirs = make_lesson(other_enrollment, start=in_hours(26))
    return mine, theirs


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["student", "teacher", "tutor", "parent"])
def test_each_role_sees_only_its_lessons(make_client, two_classes, request, role):
    mine, _ = two_classes
    assert ids(make_client(request.getfixturevalue(role)).get(URL)) == [mine.pk]


@pytest.mark.django_db
def test_admin_sees_all(make_client, two_classes, admin_user):
    assert ids(make_client(admin_user).get(URL)) == [lesson.pk for lesson in two_classes]


@pytest.mark.django_db
def test_teacher_sees_only_the_lessons_they_teach(make_client, enrollment):
    # The same student also learns with a colleague: that lesson is not this teacher's.
    colleague_lesson = make_lesson(
        EnrollmentFactory(student=enrollment.student, teacher=TeacherFactory()), start=in_hours(30)
    )
    own = make_lesson(enrollment, start=in_hours(24))
    assert ids(make_client(enrollment.teacher).get(URL)) == [own.pk]
    assert colleague_lesson.pk in ids(make_client(enrollment.student).get(URL))


@pytest.mark.django_db
def test_anonymous_gets_401(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.django_db
def test_from_and_to_select_overlapping_lessons(make_client, enrollment):
    base = in_hours(24)
    before = make_lesson(enrollment, start=base - timedelta(hours=2))  # ends at base - 1h
    straddling_from = make_lesson(enrollment, start=base - timedelta(minutes=30))
    inside = make_lesson(enrollment, start=base + timedelta(hours=1))
    straddling_to = make_lesson(enrollment, start=base + timedelta(hours=2, minutes=30))
    after = make_lesson(enrollment, start=base + timedelta(hours=4))  # starts right at `to`
    window = {"from": base.isoformat(), "to": (base + timedelta(hours=4)).isoformat()}
    client = make_client(enrollment.teacher)
    assert ids(client.get(URL, window)) == [straddling_from.pk, inside.pk, straddling_to.pk]
    assert ids(client.get(URL, {"from": base.isoformat()})) == [
        straddling_from.pk,
        inside.pk,
        straddling_to.pk,
        after.pk,
    ]
    assert ids(client.get(URL, {"to": base.isoformat()})) == [before.pk, straddling_from.pk]


@pytest.mark.django_db
def test_filters_by_status_teacher_student_subject(make_client, enrollment, admin_user):
    scheduled = make_lesson(enrollment, start=in_hours(24))
    cancelled = make_lesson(enrollment, start=in_hours(24), status=LessonStatus.CANCELLED)
    other = make_lesson(
        EnrollmentFactory(student=StudentFactory(), teacher=TeacherFactory(), subject=SubjectFactory()),
        start=in_hours(20),
    )
    client = make_client(admin_user)
    assert ids(client.get(URL, {"status": "cancelled"})) == [cancelled.pk]
    assert ids(client.get(URL, {"teacher": enrollment.teacher_id})) == [scheduled.pk, cancelled.pk]
    assert ids(client.get(URL, {"student": other.student_id})) == [other.pk]
    assert ids(client.get(URL, {"subject": enrollment.subject_id, "status": "scheduled"})) == [scheduled.pk]
    response = client.get(URL, {"status": "bogus"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_ordered_by_start(make_client, enrollment):
    later = make_lesson(enrollment, start=in_hours(50))
    sooner = make_lesson(enrollment, start=in_hours(10))
    middle = make_lesson(enrollment, start=in_hours(30))
    client = make_client(enrollment.teacher)
    assert ids(client.get(URL)) == [sooner.pk, middle.pk, later.pk]
    assert ids(client.get(URL, {"ordering": "-start"})) == [later.pk, middle.pk, sooner.pk]


def _list_with(make_client, django_assert_num_queries, tutor, count):
    teacher = TeacherFactory()
    for n in range(count):
        student = link_student(StudentFactory(), tutor=tutor)
        make_lesson(EnrollmentFactory(student=student, teacher=teacher), start=in_hours(24 + n))
    client = make_client(tutor)
    # The token with its user, count, page: whatever the number of lessons.
    with django_assert_num_queries(3):
        response = client.get(URL, {"page_size": 100})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == count
    assert all(item["teacher"]["name"] and item["student"]["name"] and item["subject"]["name"] for item in results)


@pytest.mark.django_db
def test_list_query_count_one_lesson(make_client, django_assert_num_queries, tutor):
    _list_with(make_client, django_assert_num_queries, tutor, 1)


@pytest.mark.django_db
def test_list_query_count_thirty_lessons(make_client, django_assert_num_queries, tutor):
    _list_with(make_client, django_assert_num_queries, tutor, 30)
