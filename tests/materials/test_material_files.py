"""Files of materials through the API: uploads are checked (`files.checks`) before anything is stored, downloads go
to those who may see the material only, and a replaced or deleted material's file goes once the change committed."""

import os

import pytest
from django.core.files.storage import default_storage

from materials.models import Material
from tests.files.samples import docx_bytes, elf_bytes, exe_bytes, pdf_bytes, png_bytes, upload, zip_bytes
from tests.materials.factories import MaterialFactory

pytestmark = pytest.mark.django_db


def _stored_materials() -> set[str]:
    return set(default_storage.listdir("materials")[1]) if default_storage.exists("materials") else set()


def _create(client, room, name, content, **extra):
    data = {"title": "With a file", "subject": room.math.pk, "status": "published", "file": upload(name, content)}
    data.update(extra)
    return client.post("/api/materials/", data, format="multipart")


@pytest.mark.parametrize(
    ("name", "content"), [("notes.pdf", pdf_bytes()), ("board.png", png_bytes()), ("essay.docx", docx_bytes())]
)
def test_teacher_uploads_allowed_file(make_client, room, name, content):
    response = _create(make_client(room.teacher), room, name, content)
    assert response.status_code == 201, response.json()
    body = response.json()
    material = Material.objects.get(pk=body["id"])
    assert body["file_name"] == name
    assert body["file_url"] == f"http://testserver/api/materials/{material.pk}/file/"
    # Stored under a generated name, not the uploader's.
    assert material.file.name.startswith("materials/")
    assert name not in material.file.name
    assert default_storage.exists(material.file.name)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", exe_bytes(), "file_type_not_allowed"),
        ("run.sh", elf_bytes(), "file_type_not_allowed"),
        ("board.pdf", png_bytes(), "file_extension_mismatch"),
    ],
)
def test_upload_of_forbidden_file_is_400_and_nothing_is_stored(make_client, room, name, content, code):
    response = _create(make_client(room.teacher), room, name, content)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert "file" in body["fields"]
    assert not Material.objects.exists()


def test_upload_over_the_limit_is_413(make_client, room, settings):
    settings.UPLOAD_MAX_FILE_SIZE = 64
    response = _create(make_client(room.teacher), room, "notes.pdf", pdf_bytes())
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert not Material.objects.exists()


def test_request_body_over_the_limit_is_413_before_reading(make_client, room, settings):
    settings.REQUEST_MAX_BODY_SIZE = 1024
    response = _create(make_client(room.teacher), room, "notes.txt", b"x" * 4096)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def _material_with_file(room, **kwargs):
    material = MaterialFactory(subject=room.math, author=room.teacher, **kwargs)
    material.file.save("x.pdf", upload("x.pdf", pdf_bytes()), save=False)
    material.file_name = "Лекция 1.pdf"
    material.save()
    return material


@pytest.mark.parametrize("who", ["teacher", "s1", "s2", "tutor", "parent", "admin"])
def test_download_by_those_who_see_the_material(make_client, room, who):
    material = _material_with_file(room)
    response = make_client(getattr(room, who)).get(f"/api/materials/{material.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D0%9B%D0%B5%D0%BA%D1%86%D0%B8%D1%8F%201.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize("who", ["other_teacher", "s3", "other_parent"])
def test_download_by_others_is_404(make_client, room, who):
    material = _material_with_file(room)
    response = make_client(getattr(room, who)).get(f"/api/materials/{material.pk}/file/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_download_of_a_named_material_only_by_the_named(make_client, room):
    material = _material_with_file(room, assigned_to=[room.s2])
    assert make_client(room.s2).get(f"/api/materials/{material.pk}/file/").status_code == 200
    assert make_client(room.s1).get(f"/api/materials/{material.pk}/file/").status_code == 404


def test_download_without_a_file_is_404(make_client, room):
    material = MaterialFactory(subject=room.math, author=room.teacher)
    response = make_client(room.s1).get(f"/api/materials/{material.pk}/file/")
    assert response.status_code == 404
    assert response.json()["code"] == "no_file"


def test_download_anonymous_is_401(api_client, room):
    material = _material_with_file(room)
    assert api_client.get(f"/api/materials/{material.pk}/file/").status_code == 401


def test_download_behind_nginx_uses_x_accel_redirect(make_client, room, settings):
    settings.PRIVATE_FILES_X_ACCEL = True
    material = _material_with_file(room)
    response = make_client(room.s1).get(f"/api/materials/{material.pk}/file/")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/" + material.file.name
    assert response.content == b""


def test_replacing_the_file_deletes_the_old_one_after_commit(make_client, room, django_capture_on_commit_callbacks):
    material = _material_with_file(room)
    old_name = material.file.name
    client = make_client(room.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/materials/{material.pk}/", {"file": upload("board.png", png_bytes())}, format="multipart"
        )
    assert response.status_code == 200, response.json()
    material.refresh_from_db()
    assert material.file_name == "board.png"
    assert default_storage.exists(material.file.name)
    assert not default_storage.exists(old_name)


def test_removing_the_file(make_client, room, django_capture_on_commit_callbacks):
    material = _material_with_file(room)
    old_name = material.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = make_client(room.teacher).patch(f"/api/materials/{material.pk}/", {"file": None}, format="json")
    assert response.status_code == 200
    assert response.json()["file_url"] is None
    assert not default_storage.exists(old_name)


def test_deleting_a_material_deletes_its_file_after_commit(make_client, room, django_capture_on_commit_callbacks):
    material = _material_with_file(room)
    name = material.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = make_client(room.teacher).delete(f"/api/materials/{material.pk}/")
    assert response.status_code == 204
    # Not before the commit: a rolled-back deletion must keep its file.
    assert default_storage.exists(name)
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)
    assert not Material.objects.filter(pk=material.pk).exists()


def test_random_bytes_named_docx_are_refused_by_the_api_and_nothing_is_stored(make_client, room):
    client = make_client(room.teacher)
    before = _stored_materials()
    for name, content in (("random.docx", os.urandom(4096)), ("plain.docx", zip_bytes())):
        data = {"title": "Notes", "subject": room.math.pk, "status": "published", "file": upload(name, content)}
        response = client.post("/api/materials/", data, format="multipart")
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "file_type_not_allowed"
        assert "Office Open XML" in response.json()["fields"]["file"][0]
    assert not Material.objects.exists()
    assert _stored_materials() == before
    real = {"title": "Notes", "subject": room.math.pk, "status": "published", "file": upload("r.docx", docx_bytes())}
    assert client.post("/api/materials/", real, format="multipart").status_code == 201
