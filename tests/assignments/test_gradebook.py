"""The grade book, with figures computed by hand on a small data set.

Math is taught by T to alice and bob; physics by T2 to alice. Math assignments of T:
  A1 whole class, max 10:   alice graded 8 (80 %), bob graded 5 (50 %)
  A2 whole class, max 20, late allowed: alice handed in late, graded 15.5 (77.5 %); bob nothing
  A3 only bob, max 10:      bob handed in, not graded
  A4 whole class, draft:    not due (students do not see it)
  A5 whole class, closed, max 5: alice handed in, returned for rework
  A6 whole class, max 3:    bob graded 2 (66.666… %)
Physics assignment of T2:
  P1 whole class, max 50:   alice graded 40 (80 %)

alice / math:    due A1 A2 A5 A6 = 4, submitted A1 A2 A5 = 3, graded 2, average (80 + 77.5) / 2 = 78.75, late 1
bob / math:      due A1 A2 A3 A5 A6 = 5, submitted A1 A3 A6 = 3, graded 2, average (50 + 66.67) / 2 = 58.33, late 0
alice / physics: due 1, submitted 1, graded 1, average 80.00, late 0
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from assignments import services
from assignments.models import AssignmentStatus
from tests.accounts.factories import AdminFactory, ParentFactory, StudentFactory, TutorFactory, link_student
from tests.assignments.factories import AssignmentFactory, SubjectFactory, class_of, grade, hand_in
from tests.materials.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

ALICE_MATH = {"assignments_due": 4, "submitted": 3, "graded": 2, "average_percent": "78.75", "late": 1}
BOB_MATH = {"assignments_due": 5, "submitted": 3, "graded": 2, "average_percent": "58.33", "late": 0}
ALICE_PHYSICS = {"assignments_due": 1, "submitted": 1, "graded": 1, "average_percent": "80.00", "late": 0}


@pytest.fixture
def book():
    math = SubjectFactory(name="Math")
    physics = SubjectFactory(name="Physics")
    teacher, _, (alice, bob) = class_of(2, subject=math)
    alice.last_name, bob.last_name = "Adams", "Brown"
    alice.save()
    bob.save()
    physics_teacher, _, _ = class_of(0, subject=physics)
    EnrollmentFactory(student=alice, teacher=physics_teacher, subject=physics)
    tutor, parent = TutorFactory(), ParentFactory()
    link_student(alice, tutor=tutor, parent=parent)

    def math_assignment(**kwargs):
        return AssignmentFactory(teacher=teacher, subject=math, **kwargs)

    a1 = math_assignment(max_score=Decimal(10))
    grade(hand_in(a1, alice), "8")
    grade(hand_in(a1, bob), "5")
    a2 = math_assignment(max_score=Decimal(20), allow_late=True)
    grade(hand_in(a2, alice, now=a2.due_at + timedelta(minutes=1)), "15.5")
    a3 = math_assignment(max_score=Decimal(10), students=[bob])
    hand_in(a3, bob)
    math_assignment(status=AssignmentStatus.DRAFT, published_at=None)
    a5 = math_assignment(max_score=Decimal(5))
    services.submission_return(submission=hand_in(a5, alice), by=teacher, feedback="Redo")
    services.assignment_close(assignment=a5, by=teacher)
    a6 = math_assignment(max_score=Decimal(3))
    grade(hand_in(a6, bob), "2")
    p1 = AssignmentFactory(teacher=physics_teacher, subject=physics, max_score=Decimal(50))
    grade(hand_in(p1, alice), "40")
    # Noise that must not count: another class in math, with its own assignment and hand-in.
    _, _, (stranger,) = class_of(1, subject=math)
    grade(hand_in(AssignmentFactory(subject=math, teacher=stranger.enrollments.get().teacher), stranger), "1")
    return {
        "math": math,
        "physics": physics,
        "teacher": teacher,
        "physics_teacher": physics_teacher,
        "alice": alice,
        "bob": bob,
        "tutor": tutor,
        "parent": parent,
    }


def _rows(client, query: str = "") -> list[tuple]:
    response = client.get(f"/api/assignments/gradebook/{query}")
    assert response.status_code == 200, response.content
    figures = ("assignments_due", "submitted", "graded", "average_percent", "late")
    return [
        (row["student"]["id"], row["subject"]["name"], {key: row[key] for key in figures})
        for row in response.json()["results"]
    ]


def test_figures_and_who_sees_which_rows(book, make_client):
    alice, bob = book["alice"].pk, book["bob"].pk
    alice_math = (alice, "Math", ALICE_MATH)
    alice_physics = (alice, "Physics", ALICE_PHYSICS)
    bob_math = (bob, "Math", BOB_MATH)
    assert _rows(make_client(book["teacher"])) == [alice_math, bob_math]
    assert _rows(make_client(book["physics_teacher"])) == [alice_physics]
    assert _rows(make_client(book["alice"])) == [alice_math, alice_physics]
    assert _rows(make_client(book["bob"])) == [bob_math]
    assert _rows(make_client(book["tutor"])) == _rows(make_client(book["parent"])) == [alice_math, alice_physics]
    admin_rows = _rows(make_client(AdminFactory()))
    assert alice_math in admin_rows and alice_physics in admin_rows and bob_math in admin_rows
    assert _rows(make_client(TutorFactory())) == []


def test_filters(book, make_client):
    teacher = make_client(book["teacher"])
    assert _rows(teacher, f"?student={book['bob'].pk}") == [(book["bob"].pk, "Math", BOB_MATH)]
    assert _rows(teacher, f"?subject={book['physics'].pk}") == []
    tutor = make_client(book["tutor"])
    assert _rows(tutor, f"?subject={book['physics'].pk}") == [(book["alice"].pk, "Physics", ALICE_PHYSICS)]
    # Someone else's student is simply not there.
    assert _rows(tutor, f"?student={book['bob'].pk}") == []
    response = tutor.get("/api/assignments/gradebook/?subject=abc")
    assert response.status_code == 400 and "subject" in response.json()["fields"]


def test_a_student_with_nothing_graded_has_no_average(make_client):
    teacher, subject, (student,) = class_of(1)
    hand_in(AssignmentFactory(teacher=teacher, subject=subject), student)
    body = make_client(StudentFactory()).get("/api/assignments/gradebook/").json()
    assert body["results"] == []
    row = make_client(student).get("/api/assignments/gradebook/").json()["results"][0]
    assert (row["assignments_due"], row["submitted"], row["graded"], row["average_percent"]) == (1, 1, 0, None)
