"""Writing materials: teachers their own, admins all, others never; explicit recipients; list options."""

import pytest

from materials.models import Material, MaterialStatus
from tests.materials.factories import EnrollmentFactory, MaterialFactory, SubjectFactory
from tests.shapes import person

pytestmark = pytest.mark.django_db


def test_teacher_creates_a_material(make_client, room):
    response = make_client(room.teacher).post(
        "/api/materials/",
        {
            "title": "Fractions",
            "description": "Halves and quarters",
            "content": "1/2 + 1/4 = 3/4",
            "kind": "presentation",
            "status": "published",
            "subject": room.math.pk,
            "url": "https://example.org/fractions",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["author"] == person(room.teacher)
    assert body["subject"] == {"id": room.math.pk, "name": "Math"}
    assert body["kind"] == "presentation"
    assert body["assigned_to"] == []
    assert body["file_url"] is None
    assert set(body) == {
        "id", "title", "description", "content", "kind", "status", "subject", "author", "file_url", "file_name",
        "url", "assigned_to", "created_at", "updated_at",
    }  # fmt: skip
    assert Material.objects.get(pk=body["id"]).author == room.teacher


def test_defaults_are_a_draft_lesson(make_client, room):
    body = make_client(room.teacher).post("/api/materials/", {"title": "T", "subject": room.math.pk}).json()
    assert (body["kind"], body["status"]) == ("lesson", "draft")


@pytest.mark.parametrize("who", ["s1", "tutor", "parent"])
def test_others_cannot_create(make_client, room, who):
    response = make_client(getattr(room, who)).post("/api/materials/", {"title": "x", "subject": room.math.pk})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_teacher_cannot_pick_another_author(make_client, room):
    body = make_client(room.teacher).post(
        "/api/materials/", {"title": "x", "subject": room.math.pk, "author": room.other_teacher.pk}
    )
    assert body.status_code == 201
    assert body.json()["author"]["id"] == room.teacher.pk


def test_admin_creates_for_a_teacher(make_client, room):
    client = make_client(room.admin)
    missing = client.post("/api/materials/", {"title": "x", "subject": room.math.pk})
    assert missing.status_code == 400
    assert missing.json()["code"] == "author_required"
    not_teacher = client.post("/api/materials/", {"title": "x", "subject": room.math.pk, "author": room.s1.pk})
    assert not_teacher.status_code == 400
    assert not_teacher.json()["code"] == "wrong_role"
    response = client.post(
        "/api/materials/",
        {"title": "x", "subject": room.math.pk, "author": room.teacher.pk, "assigned_to": [room.s1.pk]},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["author"]["id"] == room.teacher.pk
    assert response.json()["assigned_to"] == [room.s1.pk]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": 1}, "title"),
        ({"title": "x"}, "subject"),
        ({"title": "x", "subject": 999999}, "subject"),
        ({"title": "x", "kind": "poem"}, "kind"),
        ({"title": "x", "status": "secret"}, "status"),
        ({"title": "x", "url": "javascript:alert(1)"}, "url"),
        ({"title": "x", "url": "ftp://example.org/file"}, "url"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "assigned_to": "1"}, "assigned_to"),
    ],
)
def test_invalid_input_is_400_with_fields(make_client, room, payload, field):
    payload = {"subject": room.math.pk, **payload} if field != "subject" else payload
    response = make_client(room.teacher).post("/api/materials/", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]


def test_assigned_to_must_be_students_enrolled_with_the_author_in_the_subject(make_client, room):
    client = make_client(room.teacher)
    physics = SubjectFactory(name="Physics")
    EnrollmentFactory(student=room.s3, subject=physics, teacher=room.teacher)
    for refused in (room.s3.pk, room.tutor.pk, 999999):
        response = client.post(
            "/api/materials/", {"title": "x", "subject": room.math.pk, "assigned_to": [room.s1.pk, refused]}
        )
        assert response.status_code == 400, refused
        assert response.json()["code"] == "not_your_student"
        assert str(refused) in response.json()["fields"]["assigned_to"][0]
    assert not Material.objects.exists()
    ok = client.post(
        "/api/materials/", {"title": "x", "subject": room.math.pk, "assigned_to": [room.s2.pk, room.s1.pk, room.s2.pk]}
    )
    assert ok.status_code == 201
    assert ok.json()["assigned_to"] == sorted([room.s1.pk, room.s2.pk])


def test_assigned_to_in_multipart(make_client, room):
    response = make_client(room.teacher).post(
        "/api/materials/",
        {"title": "x", "subject": room.math.pk, "assigned_to": [room.s1.pk, room.s2.pk]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["assigned_to"]) == sorted([room.s1.pk, room.s2.pk])


def test_author_edits_their_material(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher, status=MaterialStatus.DRAFT)
    response = make_client(room.teacher).patch(
        f"/api/materials/{material.pk}/", {"title": "Renamed", "status": "published", "assigned_to": [room.s1.pk]}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Renamed"
    assert response.json()["assigned_to"] == [room.s1.pk]
    material.refresh_from_db()
    assert material.status == MaterialStatus.PUBLISHED
    cleared = make_client(room.teacher).patch(f"/api/materials/{material.pk}/", {"assigned_to": []})
    assert cleared.json()["assigned_to"] == []


def test_changing_the_subject_rechecks_the_named_students(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher, assigned_to=[room.s1])
    physics = SubjectFactory(name="Physics")
    response = make_client(room.teacher).patch(f"/api/materials/{material.pk}/", {"subject": physics.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "not_your_student"
    EnrollmentFactory(student=room.s1, subject=physics, teacher=room.teacher)
    assert make_client(room.teacher).patch(f"/api/materials/{material.pk}/", {"subject": physics.pk}).status_code == 200


def test_author_cannot_be_changed(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    response = make_client(room.teacher).patch(f"/api/materials/{material.pk}/", {"author": room.other_teacher.pk})
    assert response.status_code == 400
    assert "author" in response.json()["fields"]


def test_put_is_not_allowed(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    response = make_client(room.teacher).put(f"/api/materials/{material.pk}/", {"title": "x"})
    assert response.status_code == 405


@pytest.mark.parametrize(("who", "status"), [("other_teacher", 404), ("s1", 403), ("tutor", 403), ("parent", 403)])
def test_others_cannot_edit_or_delete(make_client, room, who, status):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    client = make_client(getattr(room, who))
    # Those who may read it are told they may not change it; the others cannot tell it exists.
    assert client.patch(f"/api/materials/{material.pk}/", {"title": "x"}).status_code == status
    assert client.delete(f"/api/materials/{material.pk}/").status_code == status
    material.refresh_from_db()
    assert material.title != "x"


def test_admin_edits_and_deletes_any(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    client = make_client(room.admin)
    assert client.patch(f"/api/materials/{material.pk}/", {"title": "By admin"}).json()["title"] == "By admin"
    assert client.delete(f"/api/materials/{material.pk}/").status_code == 204
    assert not Material.objects.filter(pk=material.pk).exists()


def test_author_deletes(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    assert make_client(room.teacher).delete(f"/api/materials/{material.pk}/").status_code == 204
    assert not Material.objects.filter(pk=material.pk).exists()


def _ids(response):
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_filters_search_and_ordering(make_client, room):
    physics = SubjectFactory(name="Physics")
    a = MaterialFactory(subject=room.math, author=room.teacher, title="Algebra", kind="video", status="draft")
    b = MaterialFactory(subject=physics, author=room.teacher, title="Optics", description="light and algebra")
    c = MaterialFactory(subject=room.math, author=room.other_teacher, title="Calculus", kind="test")
    client = make_client(room.admin)
    assert set(_ids(client.get("/api/materials/", {"subject": room.math.pk}))) == {a.pk, c.pk}
    assert _ids(client.get("/api/materials/", {"kind": "video"})) == [a.pk]
    assert set(_ids(client.get("/api/materials/", {"status": "published"}))) == {b.pk, c.pk}
    assert _ids(client.get("/api/materials/", {"author": room.other_teacher.pk})) == [c.pk]
    assert set(_ids(client.get("/api/materials/", {"search": "ALGEBRA"}))) == {a.pk, b.pk}
    assert _ids(client.get("/api/materials/", {"ordering": "title"})) == [a.pk, c.pk, b.pk]
    assert _ids(client.get("/api/materials/", {"ordering": "-title"})) == [b.pk, c.pk, a.pk]
    assert _ids(client.get("/api/materials/")) == [c.pk, b.pk, a.pk]  # newest first
    assert client.get("/api/materials/", {"kind": "poem"}).status_code == 400


def test_pagination(make_client, room):
    MaterialFactory.create_batch(25, subject=room.math, author=room.teacher)
    client = make_client(room.s1)
    first = client.get("/api/materials/").json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"] is not None
    assert first["previous"] is None
    assert len(client.get("/api/materials/", {"page_size": 10}).json()["results"]) == 10
    assert len(client.get("/api/materials/", {"page_size": 1000}).json()["results"]) == 25
    assert len(client.get("/api/materials/", {"page": 2}).json()["results"]) == 5
