"""Security helpers: the client's real address behind the proxy (login lockout), safe download names."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpRequest
from ipware import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The address the nearest trusted proxy saw, or REMOTE_ADDR when no proxy is configured.

    With ``PORTAL_PROXY_COUNT`` = N trusted proxies, each appending to X-Forwarded-For, the client
    is the N-th entry from the right; anything the client wrote into the header itself is further
    left and ignored. A request that did not come through the proxies (no or a too short
    header) is counted by REMOTE_ADDR.
    """
    if settings.PORTAL_PROXY_COUNT:
        address, _routable = get_client_ip(
            request,
            proxy_order="left-most",
            proxy_count=settings.PORTAL_PROXY_COUNT - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if address:
            return address
    return request.META.get("REMOTE_ADDR")


# --- Downloads of uploaded files --------------------------------------------------------

# The extension a download gets for each content type the upload validators accept.
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


def download_name(original_name: str, content_type: str) -> str:
    """The name to offer for a download: the uploaded stem, the extension of the checked type.

    Whatever the uploader called the file (``report.pdf.html``), a PDF downloads as ``.pdf``.
    Path separators, control characters and quotes are dropped; the stem is kept short.
    """
    stem = PurePosixPath(original_name.replace("\\", "/")).name
    for extension in (".pdf", ".jpg", ".jpeg", ".png"):
        if stem.lower().endswith(extension):
            stem = stem[: -len(extension)]
            break
    stem = UNSAFE_IN_NAMES.sub("_", stem).strip(" ._")[:80] or "file"
    return stem + EXTENSIONS.get(content_type, ".bin")


def attachment_disposition(name: str) -> str:
    """Content-Disposition for ``name``: an ASCII fallback and the RFC 5987 UTF-8 form."""
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    fallback = UNSAFE_IN_NAMES.sub("_", fallback)
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(name, safe='')}"


def file_download(file, *, original_name: str, content_type: str) -> FileResponse:
    """A download of a checked upload, typed and named by its checked content type."""
    kept_type = content_type if content_type in EXTENSIONS else "application/octet-stream"
    response = FileResponse(file, content_type=kept_type)
    response["Content-Disposition"] = attachment_disposition(download_name(original_name, content_type))
    return response
