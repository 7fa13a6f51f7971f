"""File attachments: upload, list, download, delete."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core.files import content_disposition, scanner_from_address
from core.responses import Json, created, json_body, location, no_content
from core.unit_of_work import current_unit
from handlers.idl import dto
from handlers.idl.context import idl_settings
from models.idl.accounts import SignedIn
from models.idl.attachments import Attachments, Upload

CHUNK = 64 * 1024


def _attachments() -> Attachments:
    return Attachments(current_unit(), idl_settings())


def upload_purchase_order_file(principal: SignedIn, id: int, file: Any = None, **_: Any) -> Json:  # noqa: A002
    """Attach a file to a purchase order; it is scanned for viruses on arrival and again later."""
    upload = Upload(file.file, file.filename or "file", file.content_type)
    scanner = scanner_from_address(idl_settings().clamd_address)
    attachment = _attachments().upload(principal.caller, id, upload, scanner)
    return created(dto.uploaded.dump(attachment), location("/files/{id}/download", id=attachment.id))


def list_purchase_order_files(principal: SignedIn, id: int) -> Json:  # noqa: A002
    """List a purchase order's files and their scan status."""
    files = _attachments().listed(principal.caller, id)
    return json_body({"data": dto.attachments.dump(files)})


def download_file(principal: SignedIn, id: int) -> ConnexionResponse:  # noqa: A002
    """Download a file whose virus scan came back clean."""
    download = _attachments().download(principal.caller, id)

    def chunks() -> Any:
        with download.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    return ConnexionResponse(
        status_code=200,
        mimetype=download.mime_type,
        body=download.path.read_bytes() if download.size <= CHUNK else chunks(),
        headers={
            "Content-Disposition": content_disposition(download.filename),
            "Content-Length": str(download.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


def delete_file(principal: SignedIn, id: int) -> ConnexionResponse:  # noqa: A002
    """Delete a file of a purchase order that is still a draft or submitted."""
    _attachments().delete(principal.caller, id)
    return no_content()
