"""One shape for a reference to a person on every endpoint: `{"id", "name", "role"}`, never an email.

Builds one small school (a teacher, a student linked to a tutor and a parent, an admin) with a record of every kind,
reads every endpoint that shows people as each role that reads it, and checks every person found in the answers.
"""

import pytest
from django.utils import timezone

from accounts.models import User
from chat.services import system_message_post
from invoices.services import invoice_cancel
from tests.accounts.factories import (
    AdminFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TutorFactory,
    link_student,
)
from tests.assignments.factories import AssignmentFactory, grade, hand_in
from tests.chat.factories import group_room
from tests.conftest import client_for
from tests.invoices.factories import sent_invoice
from tests.materials.factories import EnrollmentFactory, MaterialFactory, MaterialProgressFactory, SubjectFactory
from tests.scheduling.factories import in_hours, make_lesson
from tests.shapes import person

pytestmark = pytest.mark.django_db

# Keys under which the API puts a person (alone, or a list of them for `children`).
PERSON_KEYS = {"teacher", "student", "tutor", "parent", "author", "sender", "graded_by", "by", "changed_by", "user"}


@pytest.fixture
def school():
    teacher, tutor, parent, admin = TeacherFactory(), TutorFactory(), ParentFactory(), AdminFactory()
    student = link_student(StudentFactory(), tutor=tutor, parent=parent)
    subject = SubjectFactory()
    enrollment = EnrollmentFactory(student=student, teacher=teacher, subject=subject)
    lesson = make_lesson(enrollment, start=in_hours(24))
    material = MaterialFactory(author=teacher, subject=subject, status="published")
    MaterialProgressFactory(student=student, material=material, percent=50, last_opened_at=timezone.now())
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = grade(hand_in(assignment, student), "8.00")
    invoice = invoice_cancel(invoice_id=sent_invoice(tutor=tutor, parent=parent, student=student).pk, by=tutor)
    room = group_room(teacher, student, read_only=(tutor,))
    client_for(student).post(f"/api/chat/rooms/{room.pk}/messages/", {"text": "Hi", "client_id": "c1"}, format="json")
    system_message_post(room=room, text="Assignment published")
    return {
        "teacher": teacher,
        "student": student,
        "tutor": tutor,
        "parent": parent,
        "admin": admin,
        "paths": {
            "teacher": [
                "/api/scheduling/lessons/",
                f"/api/scheduling/lessons/{lesson.pk}/",
                "/api/materials/",
                f"/api/materials/{material.pk}/",
                f"/api/materials/{material.pk}/progress/",
                "/api/materials/enrollments/",
                f"/api/materials/enrollments/{enrollment.pk}/",
                "/api/assignments/",
                f"/api/assignments/{assignment.pk}/",
                f"/api/assignments/{assignment.pk}/submissions/",
                f"/api/assignments/submissions/{submission.pk}/",
                "/api/assignments/gradebook/",
                "/api/chat/rooms/",
                f"/api/chat/rooms/{room.pk}/",
                f"/api/chat/rooms/{room.pk}/messages/",
            ],
            "student": [
                "/api/profile/me/",
                "/api/scheduling/lessons/",
                "/api/materials/",
                "/api/materials/progress/",
                "/api/assignments/",
                f"/api/assignments/submissions/{submission.pk}/",
                f"/api/chat/rooms/{room.pk}/messages/",
            ],
            "tutor": [
                "/api/invoices/",
                f"/api/invoices/{invoice.pk}/",
                f"/api/invoices/{invoice.pk}/history/",
                "/api/chat/rooms/",
                f"/api/materials/progress/?student={student.pk}",
            ],
            "parent": ["/api/profile/me/", "/api/invoices/", f"/api/invoices/{invoice.pk}/history/"],
            "admin": [f"/api/admin/users/{student.pk}/", "/api/admin/users/"],
        },
    }


def people_in(value, found: list, key: str | None = None) -> None:
    """Collect every person reference in a JSON value (`key` is the key it sits under)."""
    if isinstance(value, dict):
        if key in PERSON_KEYS:
            found.append(value)
            return
        for name, item in value.items():
            if name == "children":
                found.extend(item)
            else:
                people_in(item, found, name)
    elif isinstance(value, list):
        for item in value:
            people_in(item, found, key)


def emails_in(value) -> list:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "email"] + [e for v in value.values() for e in emails_in(v)]
    if isinstance(value, list):
        return [e for item in value for e in emails_in(item)]
    return []


@pytest.mark.parametrize("who", ["teacher", "student", "tutor", "parent", "admin"])
def test_every_person_reference_is_id_name_role(school, who):
    client = client_for(school[who])
    for path in school["paths"][who]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.json())
        body = response.json()
        found = []
        people_in(body, found)
        assert found, path  # the endpoint does show people
        users = User.objects.in_bulk([p["id"] for p in found])
        for reference in found:
            assert reference == person(users[reference["id"]]), (path, reference)
        if not path.startswith(("/api/profile/me/", "/api/admin/users/")):
            # No email anywhere but in the user objects of one's own profile and the admin's user list.
            assert emails_in(body) == [], path


def test_a_lesson_names_the_teacher_without_their_email(school):
    lesson = client_for(school["student"]).get("/api/scheduling/lessons/").json()["results"][0]

    assert lesson["teacher"] == {
        "id": school["teacher"].pk,
        "name": f"{school['teacher'].first_name} {school['teacher'].last_name}",
        "role": "teacher",
    }
    assert school["teacher"].email not in str(lesson)


def test_name_falls_back_to_the_emails_local_part(school):
    teacher = school["teacher"]
    User.objects.filter(pk=teacher.pk).update(first_name="", last_name="", email="anna.petrova@school.test")

    lesson = client_for(school["student"]).get("/api/scheduling/lessons/").json()["results"][0]

    assert lesson["teacher"] == {"id": teacher.pk, "name": "anna.petrova", "role": "teacher"}


def test_one_name_alone_is_the_name(school):
    teacher = school["teacher"]
    User.objects.filter(pk=teacher.pk).update(first_name="", last_name="Petrova")

    lesson = client_for(school["student"]).get("/api/scheduling/lessons/").json()["results"][0]

    assert lesson["teacher"]["name"] == "Petrova"


def test_write_fields_stay_ids(school):
    """A person is written by id (`student: 12`) and read back as the reference."""
    tutor, student = school["tutor"], school["student"]
    due = (timezone.localdate() + timezone.timedelta(days=7)).isoformat()

    response = client_for(tutor).post(
        "/api/invoices/", {"student": student.pk, "amount": "100.00", "due_date": due}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["student"] == person(student)
    assert response.json()["tutor"] == person(tutor)
    bad = client_for(tutor).post(
        "/api/invoices/", {"student": person(student), "amount": "100.00", "due_date": due}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "student" in bad.json()["fields"]
