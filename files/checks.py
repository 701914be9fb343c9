"""Upload checks: an upload is accepted only when its size is within `UPLOAD_MAX_FILE_SIZE` (413 beyond) and its
type, decided by its content (libmagic), is on the allow-list and agrees with its extension.

A `.docx`, `.xlsx` or `.pptx` must also be a real Office Open XML package (libmagic may only say "zip" or nothing at
all of such files): `zipfile` opens it, `[Content_Types].xml` declares the main part of that kind and the part's
folder (`word/`, `xl/`, `ppt/`) is there; nothing is extracted, only the central directory and at most 1 MiB of
`[Content_Types].xml` are read, and the declared sizes and entry count are bounded (no zip bomb passes as a
document). Services call `check_upload` before they store anything (`files.storage` names it, `files.downloads`
serves it).
"""

import zipfile
import zlib
from pathlib import PurePath

import magic
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from files.errors import FileErrorCode, UploadRejected

_OFFICE_ZIP = {"application/zip", "application/octet-stream"}
# MIME type found by content -> extensions it may carry. Office Open XML files are ZIP containers: libmagic
# names them precisely on most systems and "application/zip" on some, so those accept both.
ALLOWED_TYPES: dict[str, set[str]] = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "image/gif": {".gif"},
    "image/webp": {".webp"},
    "text/plain": {".txt", ".md", ".csv"},
    "text/csv": {".csv"},
    "application/msword": {".doc"},
    "application/vnd.ms-excel": {".xls"},
    "application/vnd.ms-powerpoint": {".ppt"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
    "application/vnd.oasis.opendocument.presentation": {".odp"},
    "audio/mpeg": {".mp3"},
    "audio/ogg": {".ogg", ".oga"},
    "audio/wav": {".wav"},
    "audio/x-wav": {".wav"},
    "audio/mp4": {".m4a"},
    "video/mp4": {".mp4", ".m4v"},
    "video/webm": {".webm"},
    "video/quicktime": {".mov"},
    "application/zip": {".docx", ".xlsx", ".pptx"},
}
OFFICE_XML_EXTENSIONS = {".docx", ".xlsx", ".pptx"}


# Per extension: the folder of the main part and the content type `[Content_Types].xml` declares for it.
OFFICE_XML_MAIN_PARTS: dict[str, tuple[str, bytes]] = {
    ".docx": ("word/", b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    ".xlsx": ("xl/", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    ".pptx": ("ppt/", b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}
OFFICE_XML_MAX_ENTRIES = 10_000
OFFICE_XML_MAX_UNCOMPRESSED = 256 * 1024 * 1024  # declared total of all parts
OFFICE_XML_MAX_CONTENT_TYPES = 1024 * 1024  # `[Content_Types].xml`, the one part that is read
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    RuntimeError,
    ValueError,
    NotImplementedError,
    zlib.error,
)


def _office_xml_problem(upload: UploadedFile, extension: str) -> str | None:
    """Why the upload is not a real Office Open XML package of its extension's kind, or None when it is."""
    folder, main_type = OFFICE_XML_MAIN_PARTS[extension]
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
            if len(entries) > OFFICE_XML_MAX_ENTRIES:
                return "too many parts"
            if sum(entry.file_size for entry in entries) > OFFICE_XML_MAX_UNCOMPRESSED:
                return "its parts are too large once uncompressed"
            names = {entry.filename: entry for entry in entries}
            content_types = names.get("[Content_Types].xml")
            if content_types is None:
                return "no [Content_Types].xml"
            if content_types.flag_bits & 0x1:
                return "encrypted"
            if content_types.file_size > OFFICE_XML_MAX_CONTENT_TYPES:
                return "[Content_Types].xml is too large"
            if not any(name.startswith(folder) for name in names):
                return f"no {folder} part"
            with archive.open(content_types) as part:
                declared = part.read(OFFICE_XML_MAX_CONTENT_TYPES + 1)
            if len(declared) > OFFICE_XML_MAX_CONTENT_TYPES or main_type not in declared:
                return f"no {folder} main part declared"
    except _ZIP_ERRORS:
        return "not a readable zip package"
    finally:
        upload.seek(0)
    return None


def detect_type(upload: UploadedFile) -> str:
    """The MIME type of the upload's content (first 8 KiB), whatever its name says."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    return magic.from_buffer(head, mime=True)


def check_upload(upload: UploadedFile, *, field: str = "file") -> str:
    """Validate one upload; returns its content type. Raises UploadRejected (413 for size, 400 otherwise)."""
    if upload.size > settings.UPLOAD_MAX_FILE_SIZE:
        limit_mb = settings.UPLOAD_MAX_FILE_SIZE / (1024 * 1024)
        raise UploadRejected(
            f"The file is larger than {limit_mb:g} MB.",
            FileErrorCode.FILE_TOO_LARGE,
            status=413,
            fields={field: [f"At most {settings.UPLOAD_MAX_FILE_SIZE} bytes."]},
        )
    if upload.size == 0:
        raise UploadRejected("The file is empty.", FileErrorCode.FILE_EMPTY, fields={field: ["The file is empty."]})
    extension = PurePath(upload.name or "").suffix.lower()
    content_type = detect_type(upload)
    allowed_extensions = ALLOWED_TYPES.get(content_type)
    if allowed_extensions is None and not (content_type in _OFFICE_ZIP and extension in OFFICE_XML_EXTENSIONS):
        raise UploadRejected(
            "This type of file is not allowed.",
            FileErrorCode.FILE_TYPE_NOT_ALLOWED,
            fields={field: [f"Content of type {content_type} is not allowed."]},
        )
    if allowed_extensions is not None and extension not in allowed_extensions:
        raise UploadRejected(
            "The file's extension does not match its content.",
            FileErrorCode.FILE_EXTENSION_MISMATCH,
            fields={field: [f"Content is {content_type}; expected one of {sorted(allowed_extensions)}."]},
        )
    if extension in OFFICE_XML_EXTENSIONS:
        problem = _office_xml_problem(upload, extension)
        if problem is not None:
            raise UploadRejected(
                f"The file is not a valid {extension} document.",
                FileErrorCode.FILE_TYPE_NOT_ALLOWED,
                fields={field: [f"Not an Office Open XML {extension} package: {problem}."]},
            )
    return content_type
