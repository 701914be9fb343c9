"""The Django admin pages of materials open, and their lists cost a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from materials.services import progress_update
from tests.accounts.factories import AdminFactory
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    superuser = AdminFactory(email="root@example.test", password="a-long-admin-password-1")
    client.force_login(superuser)
    return client


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "model", ["enrollments/subject", "enrollments/enrollment", "materials/material", "materials/materialprogress"]
)
def test_changelists_cost_the_same_for_few_and_many_rows(admin_client, room, model):
    path = f"/admin/{model}/"
    material = MaterialFactory(subject=room.math, author=room.teacher)
    progress_update(student=room.s1, material=material, percent=10)
    few = _queries(admin_client, path)
    for _ in range(20):
        subject = SubjectFactory()
        EnrollmentFactory(subject=subject, teacher=room.teacher)
        extra = MaterialFactory(subject=subject, author=room.teacher)
        progress_update(student=room.s2, material=extra, percent=20)
    assert _queries(admin_client, path) == few


def test_material_change_page_shows_progress_inline(admin_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s1])
    progress_update(student=room.s1, material=material, percent=42)
    response = admin_client.get(f"/admin/materials/material/{material.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "progress-0-percent" in page
    assert 'value="42"' in page
    assert "recipients-0-student" in page


def test_enrollment_add_page_opens(admin_client):
    assert admin_client.get("/admin/enrollments/enrollment/add/").status_code == 200
