"""Private downloads: served as an attachment under the uploader's name, never sniffed, sandboxed, not cached; behind
nginx the proxy sends the bytes (X-Accel-Redirect)."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.db.models.fields.files import FieldFile

from files.downloads import file_response
from files.storage import generated_name
from tests.files.samples import pdf_bytes


def stored_pdf() -> FieldFile:
    name = default_storage.save(generated_name("downloads", "x.pdf"), ContentFile(pdf_bytes()))
    return FieldFile(None, models.FileField(), name)


def test_a_file_is_served_as_an_attachment_under_its_download_name():
    response = file_response(stored_pdf(), "Лекция 1.pdf")
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\" 1.pdf\"; filename*=UTF-8''%D0%9B%D0%B5%D0%BA%D1%86%D0%B8%D1%8F%201.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cache-Control"] == "private, no-store"


def test_the_download_name_cannot_reach_outside_or_break_the_header():
    response = file_response(stored_pdf(), '../../etc/"passwd"')
    assert response["Content-Disposition"] == "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    assert response["Content-Type"] == "application/octet-stream"


def test_behind_nginx_the_proxy_sends_the_bytes(settings):
    settings.PRIVATE_FILES_X_ACCEL = True
    field_file = stored_pdf()
    response = file_response(field_file, "notes.pdf")
    assert response["X-Accel-Redirect"] == "/protected-media/" + field_file.name
    assert response.content == b""
    assert response["Content-Disposition"].startswith("attachment;")
