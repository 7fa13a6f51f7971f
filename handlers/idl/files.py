"""File attachments: upload, list, download, delete."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse

from core.files import scanner_from_address
from core.responses import json_body, no_content
from core.unit_of_work import current_unit
from handlers.idl import dto
from handlers.idl.context import caller
from models.idl.attachments import Attachments, Upload

Json = tuple[Any, int, dict[str, str]]
CHUNK = 64 * 1024


def _attachments() -> Attachments:
    unit = current_unit()
    return Attachments(unit, unit.settings.idl)


def upload_purchase_order_file(token_info: dict[str, Any], id: int, file: Any = None, **_: Any) -> Json:  # noqa: A002
    settings = current_unit().settings.idl
    # Starlette's UploadFile keeps its stream in `.file`, Werkzeug's FileStorage in `.stream`.
    stream = getattr(file, "file", None) or file.stream
    upload = Upload(stream, file.filename or "file", file.content_type)
    try:
        scanner = scanner_from_address(settings.clamd_address)
        attachment = _attachments().upload(caller(token_info), id, upload, scanner)
    finally:
        stream.close()  # the framework spooled it to a temporary file; release it now
    body = {**dto.attachment(attachment), "stored_filename": attachment.stored_filename}
    base = request.url.path.rsplit("/purchase-orders/", 1)[0]
    return json_body(body, 201, {"Location": f"{base}/files/{attachment.id}/download"})


def list_purchase_order_files(token_info: dict[str, Any], id: int) -> Json:  # noqa: A002
    files = _attachments().listed(caller(token_info), id)
    return json_body({"data": [dto.attachment(file) for file in files]})


def download_file(token_info: dict[str, Any], id: int) -> ConnexionResponse:  # noqa: A002
    download = _attachments().download(caller(token_info), id)

    def chunks() -> Any:
        with download.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    disposition = f'attachment; filename="{_quoted(download.filename)}"'
    return ConnexionResponse(
        status_code=200,
        mimetype=download.mime_type,
        content_type=download.mime_type,
        body=download.path.read_bytes() if download.size <= CHUNK else chunks(),
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(download.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


def delete_file(token_info: dict[str, Any], id: int) -> ConnexionResponse:  # noqa: A002
    _attachments().delete(caller(token_info), id)
    return no_content()


def _quoted(filename: str) -> str:
    """The name inside a quoted-string: no quotes, backslashes or control characters."""
    return "".join("_" if ch in '"\\' or ord(ch) < 32 or ord(ch) > 126 else ch for ch in filename) or "file"
