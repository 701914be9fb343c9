"""Uploads are checked by content and size, and stored under generated names through one `upload_to`."""

import pytest
from django.apps import apps
from django.db import models

from files.checks import check_upload
from files.errors import FileErrorCode, UploadRejected
from files.storage import GeneratedName, generated_name, upload_to
from tests.files.samples import docx_bytes, elf_bytes, exe_bytes, pdf_bytes, png_bytes, upload


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.pdf", pdf_bytes(), "application/pdf"),
        ("board.PNG", png_bytes(), "image/png"),
        ("essay.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("readme.txt", b"plain words\n", "text/plain"),
    ],
)
def test_check_upload_accepts_allowed_content(name, content, expected):
    assert check_upload(upload(name, content)) == expected


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", exe_bytes(), FileErrorCode.FILE_TYPE_NOT_ALLOWED),
        ("tool", elf_bytes(), FileErrorCode.FILE_TYPE_NOT_ALLOWED),
        # An executable wearing an allowed extension is still refused: the content decides.
        ("innocent.pdf", elf_bytes(), FileErrorCode.FILE_TYPE_NOT_ALLOWED),
        # An allowed type under the wrong extension is refused too.
        ("picture.pdf", png_bytes(), FileErrorCode.FILE_EXTENSION_MISMATCH),
        ("empty.txt", b"", FileErrorCode.FILE_EMPTY),
    ],
)
def test_check_upload_rejects(name, content, code):
    with pytest.raises(UploadRejected) as caught:
        check_upload(upload(name, content))
    assert caught.value.code == code
    assert caught.value.status_code == 400


def test_check_upload_size_limit(settings):
    settings.UPLOAD_MAX_FILE_SIZE = 100
    with pytest.raises(UploadRejected) as caught:
        check_upload(upload("notes.pdf", pdf_bytes() + b"\n" * 100))
    assert caught.value.status_code == 413
    assert caught.value.code == FileErrorCode.FILE_TOO_LARGE


def test_generated_name_keeps_only_the_extension():
    name = generated_name("materials", "../../etc/my secret plan.PDF")
    assert name.startswith("materials/")
    assert name.endswith(".pdf")
    assert "secret" not in name and ".." not in name


def test_upload_to_stores_under_its_prefix_and_serializes_for_migrations():
    stored = upload_to("chat")(None, "Photo of the board.JPG")
    assert stored.startswith("chat/") and stored.endswith(".jpg") and "board" not in stored
    assert upload_to("chat").deconstruct() == ("files.storage.GeneratedName", ("chat",), {})
    assert upload_to("chat") == upload_to("chat") != upload_to("materials")


def test_every_file_field_stores_through_files_upload_to():
    fields = [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    # Materials, assignment attachments, submission files and chat attachments, at least.
    assert {field.model._meta.label for field in fields} >= {
        "materials.Material",
        "assignments.AssignmentAttachment",
        "assignments.SubmissionFile",
        "chat.Message",
    }
    for field in fields:
        assert isinstance(field.upload_to, GeneratedName), field
