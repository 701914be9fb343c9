"""The response cache never answers differently from the database (core/caching.py).

A hypothesis state machine interleaves, through the API, the writes that can change a cached answer (enroll and
end enrollments, create and rename subjects, rename users as an admin and as themselves, change a student's tutor
or parent, deactivate, sign in) with reads of every cached endpoint by every user, and compares each answer with the
same request made with the cache bypassed (`caching.cache_bypass()`): status and body equal, every time. Runs on
the embedded cache with SQLite and on Redis with PostgreSQL (`REDIS_URL`, `DATABASE_URL`).
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from rest_framework.test import APIClient

from core import caching
from enrollments.models import Enrollment, Subject
from tests import isolation
from tests.accounts.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.conftest import client_for
from tests.materials.factories import EnrollmentFactory, SubjectFactory

pytestmark = pytest.mark.django_db

READS = [
    "/api/profile/me/",
    "/api/materials/subjects/",
    "/api/materials/subjects/?page_size=1&ordering=-name",
    "/api/materials/enrollments/",
    "/api/materials/enrollments/?is_active=true&page_size=2",
]
NAMES = st.sampled_from(["Ann", "Bob", "Zoe", "", "Émile"])
PEOPLE = ["teacher1", "teacher2", "tutor1", "tutor2", "parent1", "parent2", "student1", "student2", "student3"]
STUDENTS = st.sampled_from(["student1", "student2", "student3"])
TEACHERS = st.sampled_from(["teacher1", "teacher2"])
totals = {"reads": 0, "hits": 0}


class CacheAgainstDatabase(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        isolation.cache_clear()
        self.hits_before = caching.stats["hits"]
        self.users = {
            "admin": AdminFactory(),
            "teacher1": TeacherFactory(),
            "teacher2": TeacherFactory(),
            "tutor1": TutorFactory(),
            "tutor2": TutorFactory(),
            "parent1": ParentFactory(),
            "parent2": ParentFactory(),
            "student1": StudentFactory(),
            "student2": StudentFactory(),
            "student3": StudentFactory(),
        }
        self.subjects = [SubjectFactory(name="Algebra"), SubjectFactory(name="Biology")]
        link_student(self.users["student1"], tutor=self.users["tutor1"], parent=self.users["parent1"])
        EnrollmentFactory(student=self.users["student1"], subject=self.subjects[0], teacher=self.users["teacher1"])
        self.clients = {name: client_for(user) for name, user in self.users.items()}
        self.admin = self.clients["admin"]

    def teardown(self):
        totals["hits"] += caching.stats["hits"] - self.hits_before
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- writes -----------------------------------------------------------------------------------------
    @rule(student=STUDENTS, subject=st.integers(0, 3), teacher=TEACHERS, by=st.sampled_from(["admin", "tutor1"]))
    def enroll(self, student, subject, teacher, by):
        subjects = list(Subject.objects.order_by("pk"))
        body = {
            "student": self.users[student].pk,
            "subject": subjects[subject % len(subjects)].pk,
            "teacher": self.users[teacher].pk,
        }
        response = self.clients[by].post("/api/materials/enrollments/", body, format="json")
        assert response.status_code in (201, 400, 401, 409), response.content

    @rule(index=st.integers(0, 5))
    def end_enrollment(self, index):
        active = list(Enrollment.objects.filter(is_active=True).order_by("pk"))
        if active:
            enrollment = active[index % len(active)]
            response = self.admin.patch(f"/api/materials/enrollments/{enrollment.pk}/", {"is_active": False})
            assert response.status_code == 200, response.content

    @rule(name=st.sampled_from(["Chemistry", "Drawing", "Algebra"]))
    def create_subject(self, name):
        response = self.admin.post("/api/materials/subjects/", {"name": name}, format="json")
        assert response.status_code in (201, 409), response.content

    @rule(index=st.integers(0, 3), name=st.sampled_from(["Geometry", "Zoology", "Art"]))
    def rename_subject(self, index, name):
        subjects = list(Subject.objects.order_by("pk"))
        subject = subjects[index % len(subjects)]
        response = self.admin.patch(f"/api/materials/subjects/{subject.pk}/", {"name": name}, format="json")
        assert response.status_code in (200, 409), response.content

    @rule(who=st.sampled_from(PEOPLE), name=NAMES)
    def admin_renames(self, who, name):
        response = self.admin.patch(f"/api/admin/users/{self.users[who].pk}/", {"last_name": name}, format="json")
        assert response.status_code == 200, response.content

    @rule(who=st.sampled_from(PEOPLE), name=NAMES)
    def renames_self(self, who, name):
        response = self.clients[who].patch("/api/profile/me/", {"first_name": name}, format="json")
        assert response.status_code in (200, 401), response.content

    @rule(student=STUDENTS, link=st.sampled_from(["tutor1", "tutor2", "parent1", "parent2", None]))
    def relink(self, student, link):
        field = "parent" if link and link.startswith("parent") else "tutor"
        profile = {field: self.users[link].pk if link else None}
        response = self.admin.patch(f"/api/admin/users/{self.users[student].pk}/", {"profile": profile}, format="json")
        assert response.status_code == 200, response.content

    @rule(who=st.sampled_from(PEOPLE))
    def deactivate(self, who):
        response = self.admin.delete(f"/api/admin/users/{self.users[who].pk}/")
        assert response.status_code == 204, response.content

    @rule(who=st.sampled_from(PEOPLE))
    def sign_in(self, who):
        response = APIClient().post(
            "/api/auth/login/", {"email": self.users[who].email, "password": DEFAULT_PASSWORD}, format="json"
        )
        assert response.status_code in (200, 400, 401, 403), response.content

    # --- reads: cached and uncached, the same -------------------------------------------------------------
    @rule(who=st.sampled_from(["admin", *PEOPLE]), twice=st.booleans())
    def read(self, who, twice):
        client = self.clients[who]
        for _ in range(2 if twice else 1):
            for path in READS:
                cached = client.get(path)
                with caching.cache_bypass():
                    fresh = client.get(path)
                assert (cached.status_code, cached.json()) == (fresh.status_code, fresh.json()), path
                totals["reads"] += 1


def test_cached_answers_equal_uncached_ones():
    run_state_machine_as_test(
        CacheAgainstDatabase,
        settings=hypothesis_settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"\ncache state machine: {totals['reads']} reads compared, {totals['hits']} answered from the cache")
    assert totals["hits"] > 0  # the comparison covered cached answers, not only misses
