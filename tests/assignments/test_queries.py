"""Every list costs a fixed number of queries, whatever the number of assignments, students and submissions.

Each scenario is measured twice, on a data set of one and one of many, with the same exact count. The counts
include authentication (the token lookup and the user) and pagination's COUNT.
"""

import pytest

from assignments import services
from assignments.models import AssignmentAttachment
from tests.accounts.factories import ParentFactory, TutorFactory, link_student
from tests.assignments.factories import AssignmentFactory, class_of, grade, hand_in
from tests.files.samples import pdf

pytestmark = pytest.mark.django_db


def _data_set(size: int) -> dict:
    """`size` students in one class with a tutor and a parent each, `size` assignments with an attachment,
    every student handing in each one twice with a file, half of them graded."""
    teacher, subject, students = class_of(size)
    tutor, parent = TutorFactory(), ParentFactory()
    for student in students:
        link_student(student, tutor=tutor, parent=parent)
    assignments = []
    for index in range(size):
        explicit = students[: max(1, size // 2)] if index % 2 else []
        assignment = AssignmentFactory(teacher=teacher, subject=subject, students=explicit)
        AssignmentAttachment.objects.create(
            assignment=assignment,
            file=pdf(),
            name="a.pdf",
            content_type="application/pdf",
            size=10,
            uploaded_by=teacher,
        )
        assignments.append(assignment)
        for number, student in enumerate(explicit or students):
            hand_in(assignment, student, "first", files=[pdf()])
            submission = hand_in(assignment, student, "second", files=[pdf()])
            if number % 2 == 0:
                grade(submission, "5")
            else:
                services.submission_return(submission=submission, by=teacher, feedback="again")
    return {"teacher": teacher, "students": students, "tutor": tutor, "parent": parent, "assignments": assignments}


@pytest.fixture(params=[1, 6], ids=["one", "many"])
def data(request):
    return _data_set(request.param)


def _get(client, url, django_assert_num_queries, expected: int, rows: int):
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == rows
    return response.json()


# Authentication costs one query (the token with its user); pagination two (COUNT and the page).
def test_assignment_list_for_a_teacher(data, make_client, django_assert_num_queries):
    # auth, count, page with counts, explicit students, attachments
    _get(make_client(data["teacher"]), "/api/assignments/", django_assert_num_queries, 5, len(data["assignments"]))


def test_assignment_list_for_a_student(data, make_client, django_assert_num_queries):
    # auth, count, page with the student's own submission, explicit students, attachments
    body = _get(
        make_client(data["students"][0]), "/api/assignments/", django_assert_num_queries, 5, len(data["assignments"])
    )
    assert all(row["submission"] is not None for row in body["results"])


def test_assignment_list_for_a_tutor_and_a_parent(data, make_client, django_assert_num_queries):
    for viewer in ("tutor", "parent"):
        # as for a teacher, plus the caller's students (to show only those of the explicit recipients)
        _get(make_client(data[viewer]), "/api/assignments/", django_assert_num_queries, 6, len(data["assignments"]))


def test_submission_list_for_the_teacher(data, make_client, django_assert_num_queries):
    assignment = data["assignments"][0]
    url = f"/api/assignments/{assignment.pk}/submissions/"
    # auth, the assignment, count, page (student, grader), attempts, their files
    _get(make_client(data["teacher"]), url, django_assert_num_queries, 6, len(data["students"]))


def test_submission_list_for_a_tutor(data, make_client, django_assert_num_queries):
    assignment = data["assignments"][0]
    url = f"/api/assignments/{assignment.pk}/submissions/"
    _get(make_client(data["tutor"]), url, django_assert_num_queries, 6, len(data["students"]))


def test_submission_detail(data, make_client, django_assert_num_queries):
    submission = data["assignments"][0].submissions.first()
    client = make_client(data["teacher"])
    with django_assert_num_queries(5):  # auth, submission, attempts, files, grade history
        response = client.get(f"/api/assignments/submissions/{submission.pk}/")
    assert len(response.json()["attempts"]) == 2


def test_gradebook(data, make_client, django_assert_num_queries):
    for viewer in ("teacher", "tutor", "parent"):
        # auth, count, page with every figure
        _get(
            make_client(data[viewer]),
            "/api/assignments/gradebook/",
            django_assert_num_queries,
            3,
            len(data["students"]),
        )
