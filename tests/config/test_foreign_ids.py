"""Writes answer an id the caller may not name exactly like an id that does not exist (same status, code, detail and
field message), so a write cannot be used to probe which ids exist: invoice `student` and `enrollment`, one's own
profile `tutor` and `parent`, assignment `assigned_to`, enrollment `teacher` — each as every role that may write it.

Two families: student S1 (tutor TU, parent P) enrolled with teacher T in Math; student S2 (tutor TU2, parent P2)
enrolled with teacher T2. Everything of the second family is foreign to the first family's people.
"""

from types import SimpleNamespace

import pytest

from assignments.models import Assignment
from enrollments.models import Enrollment
from invoices.models import Invoice
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

MISSING = 2**62  # a well-formed id that no row has


@pytest.fixture
def families(db):
    math, physics = SubjectFactory(name="Math"), SubjectFactory(name="Physics")
    t, t2 = TeacherFactory(), TeacherFactory()
    tu, tu2, p, p2 = TutorFactory(), TutorFactory(), ParentFactory(), ParentFactory()
    s1, s2 = StudentFactory(), StudentFactory()
    link_student(s1, tutor=tu, parent=p)
    link_student(s2, tutor=tu2, parent=p2)
    e1 = EnrollmentFactory(student=s1, subject=math, teacher=t)
    e2 = EnrollmentFactory(student=s2, subject=math, teacher=t2)
    inactive_teacher = TeacherFactory(is_active=False)
    return SimpleNamespace(**locals())


def _same(foreign, missing):
    assert foreign.status_code == missing.status_code == 400, (foreign.json(), missing.json())
    assert foreign.json() == missing.json()
    return foreign.json()


def _invoice(client, **fields):
    body = {"amount": "10.00", "due_date": "2099-01-01", **fields}
    return client.post("/api/invoices/", body, format="json")


def test_invoice_student_of_another_tutor_is_answered_like_a_missing_one(make_client, families):
    tutor = make_client(families.tu)
    missing = _invoice(tutor, student=MISSING)
    for foreign in (families.s2.pk, families.t.pk, families.tu2.pk):
        body = _same(_invoice(tutor, student=foreign), missing)
    assert body["code"] == "invalid"
    assert str(MISSING) not in str(body)
    assert not Invoice.objects.exists()


def test_invoice_enrollment_of_another_family_is_answered_like_a_missing_one_on_create_and_update(
    make_client, families
):
    tutor = make_client(families.tu)
    body = _same(
        _invoice(tutor, student=families.s1.pk, enrollment=families.e2.pk),
        _invoice(tutor, student=families.s1.pk, enrollment=MISSING),
    )
    assert list(body["fields"]) == ["enrollment"]
    assert not Invoice.objects.exists()

    draft = _invoice(tutor, student=families.s1.pk).json()["id"]
    url = f"/api/invoices/{draft}/"
    _same(
        tutor.patch(url, {"enrollment": families.e2.pk}, format="json"),
        tutor.patch(url, {"enrollment": MISSING}, format="json"),
    )
    assert Invoice.objects.get(pk=draft).enrollment_id is None
    # Their own student's enrollment is accepted.
    assert tutor.patch(url, {"enrollment": families.e1.pk}, format="json").status_code == 200


@pytest.mark.parametrize("role", ["s1", "t", "tu", "p"])
@pytest.mark.parametrize("link", ["tutor", "parent"])
def test_own_profile_links_are_refused_alike_for_existing_and_missing_users(make_client, families, role, link):
    client = make_client(getattr(families, role))
    missing = client.patch("/api/profile/me/", {"profile": {link: MISSING}}, format="json")
    for existing in (families.tu2.pk, families.p2.pk, families.s2.pk):
        foreign = client.patch("/api/profile/me/", {"profile": {link: existing}}, format="json")
        _same(foreign, missing)
    families.s1.student_profile.refresh_from_db()
    assert (families.s1.student_profile.tutor_id, families.s1.student_profile.parent_id) == (
        families.tu.pk,
        families.p.pk,
    )


def _assignment(client, **fields):
    body = {"title": "Homework", "due_at": "2099-01-01T00:00:00Z", "max_score": "10", **fields}
    return client.post("/api/assignments/", body, format="json")


def test_assignment_recipients_of_another_teacher_are_answered_like_missing_ones(make_client, families):
    teacher = make_client(families.t)
    math = families.math.pk
    missing = _assignment(teacher, subject=math, assigned_to=[MISSING])
    for foreign in (families.s2.pk, families.t2.pk, families.tu.pk):
        _same(_assignment(teacher, subject=math, assigned_to=[foreign]), missing)
    assert not Assignment.objects.exists()

    created = _assignment(teacher, subject=math, assigned_to=[families.s1.pk])
    assert created.status_code == 201, created.json()
    url = f"/api/assignments/{created.json()['id']}/"
    _same(
        teacher.patch(url, {"assigned_to": [families.s1.pk, families.s2.pk]}, format="json"),
        teacher.patch(url, {"assigned_to": [families.s1.pk, MISSING]}, format="json"),
    )
    assert list(Assignment.objects.get().students.values_list("pk", flat=True)) == [families.s1.pk]


@pytest.mark.parametrize("role", ["tu", "admin"])
def test_enrollment_teacher_that_is_not_an_active_teacher_is_answered_like_a_missing_one(make_client, families, role):
    by = families.tu if role == "tu" else AdminFactory()
    client = make_client(by)

    def enroll(teacher_id):
        body = {"student": families.s1.pk, "subject": families.physics.pk, "teacher": teacher_id}
        return client.post("/api/materials/enrollments/", body, format="json")

    missing = enroll(MISSING)
    for other in (families.s2.pk, families.tu2.pk, families.p2.pk, families.inactive_teacher.pk):
        body = _same(enroll(other), missing)
    assert body["code"] == "wrong_role"
    assert not Enrollment.objects.filter(subject=families.physics).exists()
