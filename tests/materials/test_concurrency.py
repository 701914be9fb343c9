"""Concurrent first writes (PostgreSQL: real row locks and concurrent transactions)."""

import threading

import pytest
from django.db import connection, connections

from config.exceptions import Conflict
from enrollments.models import Enrollment
from materials.models import MaterialProgress
from materials.services import enrollment_create, progress_update
from tests.accounts.factories import AdminFactory, StudentFactory, TeacherFactory
from tests.materials.factories import MaterialFactory, SubjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")


def _race(calls):
    """Run the callables at the same moment, each in its own thread and connection; return results/errors."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_concurrent_first_progress_updates_make_one_row_and_keep_the_maximum():
    student = StudentFactory()
    material = MaterialFactory()
    percents = [10, 90, 40, 70]
    outcomes = _race([lambda p=p: progress_update(student=student, material=material, percent=p) for p in percents])
    assert all(isinstance(outcome, MaterialProgress) for outcome in outcomes), outcomes
    assert MaterialProgress.objects.filter(student=student, material=material).count() == 1
    assert MaterialProgress.objects.get(student=student, material=material).percent == 90


def test_concurrent_enrollments_of_one_student_in_one_subject_make_one():
    admin, student, subject = AdminFactory(), StudentFactory(), SubjectFactory()
    teachers = [TeacherFactory(), TeacherFactory(), TeacherFactory()]
    outcomes = _race(
        [
            lambda t=t: enrollment_create(by=admin, student_id=student.pk, subject_id=subject.pk, teacher_id=t.pk)
            for t in teachers
        ]
    )
    created = [outcome for outcome in outcomes if isinstance(outcome, Enrollment)]
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(created) == 1, outcomes
    assert len(conflicts) == 2, outcomes
    assert Enrollment.objects.filter(student=student, subject=subject, is_active=True).count() == 1
