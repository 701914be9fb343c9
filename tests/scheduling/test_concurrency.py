"""No double booking under concurrent requests: exactly one of several overlapping lessons wins.

On PostgreSQL the threads share the test database. SQLite's in-memory test database (shared cache) answers
"table is locked" instead of waiting, which the embedded mode never sees, so on SQLite the same race runs in a
child process against a real database file, as the embedded mode uses it.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from config.exceptions import ApiError
from scheduling.locks import timetables_locked
from scheduling.models import Lesson, LessonStatus
from scheduling.services import lesson_schedule
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours, make_lesson

THREADS = 6


def race(calls) -> list:
    """Run the callables at once in their own threads (own connections); return each result or error."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - every outcome is recorded, then asserted
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _scheduler(enrollment, start):
    return lambda: lesson_schedule(
        actor=enrollment.teacher,
        student_id=enrollment.student_id,
        subject_id=enrollment.subject_id,
        start=start,
        end=start + timedelta(hours=1),
    )


def _assert_one_winner(results, *, losers_see_the_winner: bool = True):
    winners = [result for result in results if isinstance(result, list)]
    losers = [result for result in results if isinstance(result, ApiError)]
    assert len(winners) == 1, results
    assert len(losers) == len(results) - 1, results
    winner = winners[0][0]
    for error in losers:
        assert error.status_code == 409 and error.code == "lesson_conflict"
        # Another teacher's lesson is not the loser's to see: only that the time is taken.
        expected = winner.pk if losers_see_the_winner else None
        assert (error.extra["conflicts"][0]["lesson"] or {}).get("id") == expected
    assert Lesson.objects.filter(status=LessonStatus.SCHEDULED).count() == 1


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("threads on the shared test database need PostgreSQL; see the SQLite file test")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_teacher_overlapping_lessons_at_once(teacher):
    _postgres_only()
    start = in_hours(48)
    calls = [
        _scheduler(EnrollmentFactory(student=StudentFactory(), teacher=teacher), start + timedelta(minutes=5 * n))
        for n in range(THREADS)
    ]
    _assert_one_winner(race(calls))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_student_overlapping_lessons_with_different_teachers_at_once(student):
    _postgres_only()
    start = in_hours(48)
    calls = [
        _scheduler(EnrollmentFactory(student=student, teacher=TeacherFactory()), start + timedelta(minutes=5 * n))
        for n in range(THREADS)
    ]
    _assert_one_winner(race(calls), losers_see_the_winner=False)


def _someone_waits_on_a_lock(timeout: float = 10) -> bool:
    """Whether another session of this test database comes to wait on a lock within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.01)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scheduling_waits_for_whoever_holds_the_teachers_timetable(teacher):
    """Check-then-insert is serialized per person (scheduling.locks.timetables_locked): two overlapping inserts
    never race into the exclusion constraints, where PostgreSQL may end them as a deadlock instead of a 409."""
    _postgres_only()
    enrollment = EnrollmentFactory(student=StudentFactory(), teacher=teacher)
    order: list[str] = []
    held = threading.Event()

    def holder():
        try:
            with transaction.atomic():
                timetables_locked(teacher.pk)
                held.set()
                if not _someone_waits_on_a_lock():  # the scheduler queued behind this transaction
                    order.append("the scheduler never waited")
                order.append("holder committed")
        finally:
            connection.close()

    def scheduler():
        try:
            assert held.wait(10)
            _scheduler(enrollment, in_hours(48))()
            order.append("lesson scheduled")
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=scheduler)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert order == ["holder committed", "lesson scheduled"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_exclusion_constraint_rejects_overlaps_the_service_never_saw(student, teacher):
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints exist on PostgreSQL only")
    enrollment = EnrollmentFactory(student=student, teacher=teacher)
    start = in_hours(48)
    make_lesson(enrollment, start=start)
    make_lesson(enrollment, start=start + timedelta(hours=1))  # half-open ranges: touching is fine
    make_lesson(enrollment, start=start, status=LessonStatus.CANCELLED)  # only scheduled lessons count
    for other in (
        EnrollmentFactory(student=StudentFactory(), teacher=teacher),
        EnrollmentFactory(student=student, teacher=TeacherFactory()),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_lesson(other, start=start + timedelta(minutes=30))


SQLITE_RACE = """
import json, os, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.scheduling import test_concurrency as race_module
from tests.accounts.factories import StudentFactory, TeacherFactory
from tests.materials.factories import EnrollmentFactory
from tests.scheduling.factories import in_hours
from datetime import timedelta
teacher = TeacherFactory()
start = in_hours(48)
calls = [
    race_module._scheduler(
        EnrollmentFactory(student=StudentFactory(), teacher=teacher), start + timedelta(minutes=5 * n)
    )
    for n in range(6)
]
results = race_module.race(calls)
print(json.dumps([
    "won" if isinstance(result, list) else getattr(result, "code", repr(result)) for result in results
]))
"""


@pytest.mark.slow
@pytest.mark.django_db
def test_sqlite_file_database_serializes_check_and_insert(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path of the service")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("REDIS_URL", None)
    completed = subprocess.run(
        [sys.executable, "-c", SQLITE_RACE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    outcomes = json.loads(completed.stdout.strip().splitlines()[-1])
    assert sorted(outcomes) == ["lesson_conflict"] * 5 + ["won"]
