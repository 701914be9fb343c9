"""Private downloads: a file is served only by a view that has checked the caller's access, through
`file_response` — always as an attachment, never sniffed, sandboxed, not cached. Behind nginx
(`PRIVATE_FILES_X_ACCEL`) the proxy sends the bytes from its internal `/protected-media/` location."""

import mimetypes
import os
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse


def file_response(field_file, download_name: str) -> HttpResponse:
    """Serve a private file to a caller whose access was checked, offered under `download_name`."""
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    if settings.PRIVATE_FILES_X_ACCEL:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = "/protected-media/" + field_file.name
    else:
        response = FileResponse(field_file.open("rb"), content_type=content_type)
    response["Content-Disposition"] = _attachment(download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


def _attachment(name: str) -> str:
    safe = os.path.basename(name).replace('"', "") or "file"
    return (
        f"attachment; filename=\"{safe.encode('ascii', 'ignore').decode() or 'file'}\"; filename*=UTF-8''{quote(safe)}"
    )
