"""Concurrent hand-ins and grading on PostgreSQL, whose row locks the services rely on (SQLite serializes
writers on its own)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from assignments import services
from assignments.models import Submission
from config.exceptions import ApiError
from tests.assignments.factories import AssignmentFactory, class_of, hand_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")


def _race(workers: int, work) -> list:
    """Run `work(index)` in `workers` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_simultaneous_hand_ins_of_one_student_become_successive_attempts():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    results = _race(6, lambda index: hand_in(assignment, student, f"version {index}").attempt)
    assert sorted(results) == [1, 2, 3, 4, 5, 6]
    submission = Submission.objects.get()
    assert submission.attempt == 6
    assert sorted(submission.attempts.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_simultaneous_first_hand_ins_of_a_class():
    teacher, subject, students = class_of(6)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    results = _race(6, lambda index: hand_in(assignment, students[index]).pk)
    assert all(isinstance(result, int) for result in results), results
    assert Submission.objects.filter(assignment=assignment).count() == 6


def test_grading_and_handing_in_at_once_never_grade_an_attempt_they_did_not_see():
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = hand_in(assignment, student, "v1")

    def work(index: int):
        if index == 0:
            return services.submission_grade(submission=submission, by=teacher, score=Decimal("9")).attempt
        return hand_in(assignment, student, "v2").attempt

    results = _race(2, work)
    submission.refresh_from_db()
    history = list(submission.grade_history.values_list("attempt", flat=True))
    if isinstance(results[1], ApiError):
        # The grade came first: the hand-in was refused and the grade is on attempt 1.
        assert results[1].code == "already_graded"
        assert (submission.attempt, submission.status, history) == (1, "graded", [1])
    else:
        # The hand-in came first: the grade is on attempt 2, the one the teacher's lock saw.
        assert (submission.attempt, submission.status, history) == (2, "graded", [2])
