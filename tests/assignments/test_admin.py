"""The Django admin pages of assignments render for a superuser."""

import pytest
from django.test import Client

from tests.accounts.factories import AdminFactory
from tests.assignments.factories import AssignmentFactory, class_of, grade, hand_in
from tests.files.samples import pdf

pytestmark = pytest.mark.django_db


def test_admin_pages(tmp_path):
    teacher, subject, (student,) = class_of(1)
    assignment = AssignmentFactory(teacher=teacher, subject=subject)
    submission = grade(hand_in(assignment, student, files=[pdf()]), "5")
    client = Client()
    client.force_login(AdminFactory(email="root@example.test", password="x-strong-pass-1"))
    for url in (
        "/admin/assignments/assignment/",
        f"/admin/assignments/assignment/{assignment.pk}/change/",
        "/admin/assignments/submission/",
        f"/admin/assignments/submission/{submission.pk}/change/",
        "/admin/assignments/submissionfile/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/admin/assignments/submission/add/").status_code == 403
