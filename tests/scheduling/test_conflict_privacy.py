"""A 409 `lesson_conflict` names only lessons the caller may see. A lesson of another family (the teacher's lesson
with someone else's student, the student's lesson with another teacher) is reported only as a conflict at the
requested time (`lesson: null`, no id, no student), and of those only the first slot, so a weekly series maps no
more of someone else's week than one booking would."""

from datetime import timedelta

import pytest

from scheduling.models import Lesson
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson

pytestmark = pytest.mark.django_db

URL = "/api/scheduling/lessons/"


def _iso(value):
    return value.isoformat().replace("+00:00", "Z")


def _body(enrollment, start, minutes=60, **extra):
    return {
        "student": enrollment.student_id,
        "subject": enrollment.subject_id,
        "teacher": enrollment.teacher_id,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


@pytest.fixture
def two_families(enrollment, teacher, tutor):
    """`enrollment`: the tutor's student with `teacher`; `other`: another family's student with the same teacher."""
    stranger = link_student(StudentFactory(first_name="Zebedee"), tutor=TutorFactory(), parent=ParentFactory())
    return enrollment, EnrollmentFactory(student=stranger, teacher=teacher, subject=enrollment.subject)


def _assert_reveals_nothing_of(response, lesson):
    text = response.content.decode()
    assert f"lesson {lesson.pk} " not in response.json()["detail"]
    assert "Zebedee" not in text and f'"id": {lesson.pk}' not in text and f'"id":{lesson.pk}' not in text
    assert _iso(lesson.end) not in text


def test_a_tutor_booking_into_the_teachers_lesson_with_another_family_learns_only_that_the_time_is_taken(
    make_client, two_families, tutor
):
    mine, other = two_families
    start = in_hours(48)
    hidden = make_lesson(other, start=start + timedelta(minutes=30))
    response = make_client(tutor).post(URL, _body(mine, start))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "lesson_conflict"
    assert data["detail"] == "The time overlaps another lesson of the teacher or the student."
    assert data["conflicts"] == [
        {
            "date": start.date().isoformat(),
            "start": _iso(start),
            "end": _iso(start + timedelta(hours=1)),
            "lesson": None,
        }
    ]
    _assert_reveals_nothing_of(response, hidden)
    assert Lesson.objects.count() == 1


def test_the_callers_own_conflicting_lesson_is_named_in_full(make_client, two_families, tutor):
    mine, _ = two_families
    start = in_hours(48)
    own = make_lesson(mine, start=start + timedelta(minutes=30))
    response = make_client(tutor).post(URL, _body(mine, start))
    assert response.status_code == 409
    [conflict] = response.json()["conflicts"]
    assert conflict["lesson"] == {"id": own.pk, "start": _iso(own.start), "end": _iso(own.end)}
    assert str(own.pk) in response.json()["detail"]


def test_a_series_reports_every_own_conflict_and_only_the_first_hidden_one(make_client, two_families, tutor):
    mine, other = two_families
    first = in_hours(72)
    hidden = [make_lesson(other, start=first + timedelta(weeks=week, minutes=20)) for week in (1, 3, 5)]
    own = make_lesson(mine, start=first + timedelta(weeks=7, minutes=-30))
    response = make_client(tutor).post(URL, _body(mine, first, repeat_weekly=10))
    assert response.status_code == 409
    conflicts = response.json()["conflicts"]
    assert [item["lesson"] for item in conflicts] == [
        None,
        {"id": own.pk, "start": _iso(own.start), "end": _iso(own.end)},
    ]
    assert [item["start"] for item in conflicts] == [_iso(first + timedelta(weeks=week)) for week in (1, 7)]
    for lesson in hidden:
        _assert_reveals_nothing_of(response, lesson)
    assert _iso(hidden[1].start) not in response.content.decode()
    assert Lesson.objects.count() == 4


def test_a_teacher_does_not_see_the_students_lesson_with_another_teacher(make_client, enrollment):
    start = in_hours(48)
    hidden = make_lesson(enrollment, start=start)
    other_teacher = TeacherFactory()
    second = EnrollmentFactory(student=enrollment.student, teacher=other_teacher)
    response = make_client(other_teacher).post(URL, _body(second, start - timedelta(minutes=30)))
    assert response.status_code == 409
    assert [item["lesson"] for item in response.json()["conflicts"]] == [None]
    assert f"lesson {hidden.pk} " not in response.json()["detail"]


def test_an_admin_sees_every_conflict_in_full(make_client, two_families):
    mine, other = two_families
    first = in_hours(72)
    lessons = [make_lesson(other, start=first + timedelta(weeks=week)) for week in (1, 3)]
    response = make_client(AdminFactory()).post(URL, _body(mine, first, repeat_weekly=4))
    assert response.status_code == 409
    assert [item["lesson"]["id"] for item in response.json()["conflicts"]] == [lesson.pk for lesson in lessons]


def test_rescheduling_onto_a_hidden_lesson_tells_nothing_of_it(make_client, two_families, tutor):
    mine, other = two_families
    start = in_hours(48)
    hidden = make_lesson(other, start=start)
    own = make_lesson(mine, start=start + timedelta(hours=3))
    response = make_client(tutor).patch(
        f"{URL}{own.pk}/",
        {"start": (start + timedelta(minutes=15)).isoformat(), "end": (start + timedelta(minutes=75)).isoformat()},
    )
    assert response.status_code == 409
    assert [item["lesson"] for item in response.json()["conflicts"]] == [None]
    _assert_reveals_nothing_of(response, hidden)
    own.refresh_from_db()
    assert own.start == start + timedelta(hours=3)
