""".docx, .xlsx and .pptx uploads must be real Office Open XML packages: libmagic names random bytes
"application/octet-stream" and a plain zip "application/zip", and the extension alone used to let them through. The
check opens the zip without extracting it, reads at most 1 MiB of `[Content_Types].xml`, and bounds the declared sizes
and the number of parts."""

import io
import os
import struct
import zipfile

import pytest

from files.checks import OFFICE_XML_MAX_ENTRIES, check_upload
from files.errors import FileErrorCode, UploadRejected
from tests.files.samples import docx_bytes, upload, zip_bytes

MAIN = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}


def package(main_part: str, *, content_types: bool = True, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package whose main part is `main_part`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if content_types:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'content-types"><Override PartName="/{main_part}" ContentType="{MAIN[main_part]}"/></Types>',
            )
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><root/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def declaring_huge_sizes(content: bytes) -> bytes:
    """`content` with every central-directory entry declaring 4 GB uncompressed (a zip bomb's headers)."""
    data = bytearray(content)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24 : at + 28] = struct.pack("<I", 0xFFFFFFF0)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def many_parts(count: int) -> bytes:
    return package("word/document.xml", extra={f"word/media/{n}.xml": b"" for n in range(count)})


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.docx", docx_bytes()),
        ("report.docx", package("word/document.xml")),
        ("sheet.xlsx", package("xl/workbook.xml")),
        ("slides.pptx", package("ppt/presentation.xml")),
    ],
)
def test_real_minimal_office_documents_are_accepted(name, content):
    check_upload(upload(name, content))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("random.docx", os.urandom(4096)),
        ("random.xlsx", b"\x00\x01\x02 not a document " * 100),
        ("plain-zip.docx", zip_bytes()),
        ("plain-zip.pptx", zip_bytes()),
        ("no-content-types.docx", package("word/document.xml", content_types=False)),
        ("sheet-as.docx", package("xl/workbook.xml")),
        ("document-as.pptx", package("word/document.xml")),
        ("bomb.docx", declaring_huge_sizes(package("word/document.xml"))),
        ("too-many-parts.docx", many_parts(OFFICE_XML_MAX_ENTRIES)),
        ("truncated.docx", package("word/document.xml")[:-30]),
    ],
)
def test_what_is_not_a_real_package_of_its_kind_is_refused(name, content):
    with pytest.raises(UploadRejected) as caught:
        check_upload(upload(name, content))
    assert caught.value.status_code == 400
    assert caught.value.code in (FileErrorCode.FILE_TYPE_NOT_ALLOWED, FileErrorCode.FILE_EXTENSION_MISMATCH)
