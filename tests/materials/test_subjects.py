"""Subjects: everyone signed in reads them, admins create and edit them."""

import pytest

from enrollments.models import Subject
from tests.materials.factories import SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["student", "teacher", "tutor", "parent", "admin_user"])
def test_everyone_reads_subjects(make_client, request, who):
    SubjectFactory(name="Physics")
    SubjectFactory(name="Algebra")
    client = make_client(request.getfixturevalue(who))
    body = client.get("/api/materials/subjects/").json()
    assert [item["name"] for item in body["results"]] == ["Algebra", "Physics"]
    assert set(body["results"][0]) == {"id", "name", "description"}
    subject_id = body["results"][0]["id"]
    assert client.get(f"/api/materials/subjects/{subject_id}/").json()["name"] == "Algebra"


def test_search(make_client, student):
    SubjectFactory(name="Physics")
    SubjectFactory(name="Algebra")
    body = make_client(student).get("/api/materials/subjects/", {"search": "phys"}).json()
    assert [item["name"] for item in body["results"]] == ["Physics"]


def test_admin_creates_and_edits(make_client, admin_user):
    client = make_client(admin_user)
    response = client.post("/api/materials/subjects/", {"name": " Chemistry ", "description": "Atoms"})
    assert response.status_code == 201
    assert response.json()["name"] == "Chemistry"
    subject_id = response.json()["id"]
    edited = client.patch(f"/api/materials/subjects/{subject_id}/", {"description": "Molecules"})
    assert edited.status_code == 200
    assert Subject.objects.get(pk=subject_id).description == "Molecules"
    assert client.patch(f"/api/materials/subjects/{subject_id}/", {"name": "Chemistry"}).status_code == 200


def test_duplicate_name_is_409(make_client, admin_user):
    SubjectFactory(name="Physics")
    other = SubjectFactory(name="Algebra")
    client = make_client(admin_user)
    response = client.post("/api/materials/subjects/", {"name": "physics"})
    assert response.status_code == 409
    assert response.json()["code"] == "subject_exists"
    assert client.patch(f"/api/materials/subjects/{other.pk}/", {"name": "PHYSICS"}).status_code == 409


@pytest.mark.parametrize("who", ["student", "teacher", "tutor", "parent"])
def test_others_cannot_write(make_client, request, who):
    subject = SubjectFactory(name="Physics")
    client = make_client(request.getfixturevalue(who))
    assert client.post("/api/materials/subjects/", {"name": "New"}).status_code == 403
    assert client.patch(f"/api/materials/subjects/{subject.pk}/", {"name": "New"}).status_code == 403
    assert not Subject.objects.filter(name="New").exists()


def test_missing_subject_is_404(make_client, student):
    assert make_client(student).get("/api/materials/subjects/999999/").status_code == 404
