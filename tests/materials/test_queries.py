"""Lists cost a fixed number of queries whatever the page size ("No N+1 queries on materials list")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import caching
from materials.services import progress_update
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory

pytestmark = pytest.mark.django_db

# Authentication is one query: the token, by its digest, with its user (accounts.authentication).
AUTH = 1
# Materials list: auth, count, page (subject, author and, for a student, their progress joined), recipients.
MATERIAL_LIST = AUTH + 3


def _count_queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


def _add_materials(room, number: int) -> None:
    """`number` published materials of T in math, half of them naming S1 and S2, with progress of S1."""
    for index in range(number):
        named = [room.s1, room.s2] if index % 2 else []
        material = MaterialFactory(subject=room.math, author=room.teacher, assigned_to=named)
        progress_update(student=room.s1, material=material, percent=index % 101)


@pytest.mark.parametrize("who", ["s1", "teacher", "tutor", "parent", "admin"])
def test_materials_list_queries_for_1_and_50(make_client, room, who, django_assert_num_queries):
    client = make_client(getattr(room, who))
    _add_materials(room, 1)
    with django_assert_num_queries(MATERIAL_LIST):
        response = client.get("/api/materials/", {"page_size": 100})
    assert response.json()["count"] == 1
    _add_materials(room, 49)
    with django_assert_num_queries(MATERIAL_LIST):
        response = client.get("/api/materials/", {"page_size": 100})
    assert response.json()["count"] == 50
    assert len(response.json()["results"]) == 50


@pytest.mark.parametrize("who", ["s1", "teacher", "parent"])
def test_materials_list_with_filters_and_search_is_as_cheap(make_client, room, who, django_assert_num_queries):
    _add_materials(room, 50)
    client = make_client(getattr(room, who))
    params = {"subject": room.math.pk, "kind": "lesson", "status": "published", "author": room.teacher.pk}
    with django_assert_num_queries(MATERIAL_LIST):
        response = client.get("/api/materials/", {**params, "search": "Material", "ordering": "title", "page_size": 50})
    assert response.json()["count"] == 50


def test_material_detail_queries(make_client, room, django_assert_num_queries):
    _add_materials(room, 2)
    material = room.teacher.authored_materials.first()
    client = make_client(room.s1)
    with django_assert_num_queries(AUTH + 2):  # the material with its progress, its recipients
        assert client.get(f"/api/materials/{material.pk}/").status_code == 200


def _cold_and_warm(client, path) -> tuple[int, int]:
    """Queries of a cached list read twice: cold (count and page), then warm (from the cache: only the token)."""
    return _count_queries(client, path, {"page_size": 100}), _count_queries(client, path, {"page_size": 100})


@pytest.mark.parametrize("who", ["admin", "teacher", "tutor"])
def test_enrollments_list_queries_for_1_and_50(make_client, room, who):
    client = make_client(getattr(room, who))
    few = _cold_and_warm(client, "/api/materials/enrollments/")
    for index in range(50):
        subject = SubjectFactory()
        # The factory writes the way every enrollment write does (materials.services.enrollment_written_on_commit),
        # which invalidates the cached lists.
        EnrollmentFactory(student=room.s1 if index % 2 else room.s2, subject=subject, teacher=room.teacher)
    many = _cold_and_warm(client, "/api/materials/enrollments/")
    assert few == many == (AUTH + 2, AUTH)


def test_subjects_list_queries_for_1_and_50(make_client, room):
    client = make_client(room.s1)
    few = _cold_and_warm(client, "/api/materials/subjects/")
    SubjectFactory.create_batch(50)
    caching.invalidate(caching.SUBJECTS)  # the factory writes past the services, which invalidate
    many = _cold_and_warm(client, "/api/materials/subjects/")
    assert few == many == (AUTH + 2, AUTH)
