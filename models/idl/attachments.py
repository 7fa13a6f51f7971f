"""File attachments of purchase orders: upload, listing, download, deletion, and virus scanning.

Bytes go to disk as `<uuid>_<safe name>` under the configured directory (core.files), never
under a name the client chose. Each upload is scanned on arrival: a virus (or a scanner that
cannot scan) refuses it and nothing is kept. Stored files start `pending` and are scanned
again by the worker (`partner-gateway worker`), which marks them `clean` or quarantines them
as `infected`; only `clean` files are served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from core.columns import utcnow
from core.files import EmptyFile, FileStore, FileTooLarge, ScanError, Scanner, scanner_from_address, sniff
from core.jobs import Backlog, Job, JobContext, claim_due
from core.problems import Forbidden, Locked, NotFound, PayloadTooLarge, Unprocessable, ValidationFailed
from core.unit_of_work import UnitOfWork
from models.idl.accounts import REALM, Caller
from models.idl.purchasing import PurchaseOrders
from models.idl.repositories import AttachmentRepository, PurchaseOrderRepository
from models.idl.settings import IDLSettings
from models.idl.tables import Attachment, PurchaseOrder
from models.shared.audit import AuditTrail

logger = logging.getLogger(__name__)

ATTACHABLE_STATUSES = ("draft", "submitted")
PENDING, CLEAN, INFECTED = "pending", "clean", "infected"
MAX_RETRY_SECONDS = 3600


@dataclass(frozen=True)
class Upload:
    """One uploaded part, whatever the web framework wrapped it in."""

    stream: BinaryIO
    filename: str
    content_type: str | None


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    mime_type: str
    size: int


class Attachments:
    def __init__(self, unit: UnitOfWork, settings: IDLSettings | None = None) -> None:
        self.unit = unit
        self.settings = settings
        self.orders = PurchaseOrders(unit)
        self.order_rows = PurchaseOrderRepository(unit)
        self.files = AttachmentRepository(unit)
        self.audit = AuditTrail(unit, REALM)

    @property
    def store(self) -> FileStore:
        assert self.settings is not None, "file operations need the IDL settings"
        return FileStore(self.settings.upload_dir)

    def of(self, order: PurchaseOrder) -> Sequence[Attachment]:
        return self.files.of(order.id)

    def listed(self, principal: Caller, order_id: int) -> Sequence[Attachment]:
        return self.of(self.orders.visible(principal, order_id))

    def upload(self, principal: Caller, order_id: int, upload: Upload, scanner: Scanner) -> Attachment:
        order = self.orders.visible(principal, order_id)
        if order.status not in ATTACHABLE_STATUSES:
            raise Forbidden(
                f"Files can be attached only to a draft or submitted purchase order; this one is {order.status}",
                extensions={"status": order.status},
            )
        assert self.settings is not None
        limit = self.settings.max_upload_bytes
        store = self.store
        try:
            stored = store.save(upload.stream, upload.filename or "file", limit)
        except FileTooLarge as exc:
            message = f"File exceeds the size limit of {limit} bytes"
            raise PayloadTooLarge(message, errors={"file": [message]}) from exc
        except EmptyFile as exc:
            raise ValidationFailed("The file is empty", errors={"file": ["The file is empty."]}) from exc
        try:
            mime_type = sniff(stored.head, upload.content_type, upload.filename or "")
            if mime_type is None:
                message = "Invalid file type: only PDF, images, Word, Excel, CSV and plain text files are accepted"
                raise ValidationFailed(message, errors={"file": [message]})
            try:
                verdict = scanner.scan(stored.path)
            except ScanError as exc:
                logger.warning("virus scan failed on upload: %s", exc)
                raise Unprocessable(
                    "The virus scan failed; the file was not stored", extensions={"code": "INTEGRATION_ERROR"}
                ) from exc
            if verdict.infected:
                message = f"Virus detected ({verdict.signature}); the file was not stored"
                raise Unprocessable(message, errors={"file": [message]})
        except Exception:
            store.remove(stored.stored_filename)
            raise
        self.unit.after_rollback(lambda: store.remove(stored.stored_filename))
        attachment = self.files.add(
            Attachment(
                purchase_order_id=order.id,
                original_filename=(upload.filename or "file")[:255],
                stored_filename=stored.stored_filename,
                file_size=stored.size,
                mime_type=mime_type,
                virus_scan_status=PENDING,
                uploaded_by_id=principal.id,
            )
        )
        self.audit.record(principal.actor, "file", attachment.id, "file_uploaded", None, self._values(attachment))
        return attachment

    def download(self, principal: Caller, file_id: int) -> Download:
        attachment, order = self._find(file_id)
        if not principal.works_on(order.project_id):
            raise Forbidden("You have no access to this purchase order or file")
        if attachment.virus_scan_status == INFECTED:
            raise Locked("File quarantined due to virus", extensions={"virus_scan_status": INFECTED})
        if attachment.virus_scan_status != CLEAN:
            raise Locked("File is still being scanned; try again shortly", extensions={"virus_scan_status": PENDING})
        path = self.store.path_of(attachment.stored_filename)
        if not path.is_file():
            # The row outlived its bytes (storage lost or not shared between machines).
            logger.error("file %s: %s is missing from the upload directory", attachment.id, path)
            raise NotFound(f"The content of file {file_id} is no longer available")
        return Download(path, attachment.original_filename, attachment.mime_type, attachment.file_size)

    def delete(self, principal: Caller, file_id: int) -> None:
        attachment, order = self._find(file_id)
        if not principal.works_on(order.project_id):
            raise NotFound(f"File {file_id} was not found")
        if principal.id not in (attachment.uploaded_by_id, order.created_by_id):
            raise Forbidden("Only the uploader or the purchase order's creator may delete a file")
        if order.status not in ATTACHABLE_STATUSES:
            raise Forbidden(
                f"Files of a {order.status} purchase order cannot be deleted", extensions={"status": order.status}
            )
        values = self._values(attachment)
        stored_filename, store = attachment.stored_filename, self.store
        self.files.remove(attachment)
        self.audit.record(principal.actor, "file", file_id, "file_deleted", values, None)
        self.unit.after_commit(lambda: store.remove(stored_filename))

    def _find(self, file_id: int) -> tuple[Attachment, PurchaseOrder]:
        attachment = self.files.get(file_id)
        order = self.order_rows.get(attachment.purchase_order_id) if attachment else None
        if attachment is None or order is None or order.deleted_at is not None:
            raise NotFound(f"File {file_id} was not found")
        return attachment, order

    @staticmethod
    def _values(attachment: Attachment) -> dict[str, object]:
        return {
            "purchase_order_id": attachment.purchase_order_id,
            "original_filename": attachment.original_filename,
            "stored_filename": attachment.stored_filename,
            "file_size": attachment.file_size,
            "mime_type": attachment.mime_type,
            "virus_scan_status": attachment.virus_scan_status,
        }


def scan_job(settings: IDLSettings, batch: int = 20) -> Job:
    """The background scan of pending files (`partner-gateway worker`)."""
    backlog = Backlog(
        Attachment, Attachment.next_scan_at, Attachment.uploaded_at, [Attachment.virus_scan_status == PENDING]
    )
    return Job("idl-scan", lambda context: scan_pending(context, settings, batch=batch), backlog=backlog)


def scan_pending(context: JobContext, settings: IDLSettings, scanner: Scanner | None = None, batch: int = 20) -> int:
    """Scan up to `batch` pending files and record the verdicts; returns how many were decided.

    The files are claimed first (core.jobs), so several workers share the queue without
    scanning a file twice, and each is scanned and recorded in a transaction of its own. A
    file that cannot be scanned (scanner down, bytes missing) stays pending and is retried
    after 2, 4, 8, ... seconds, at most an hour.
    """
    scanner = scanner or scanner_from_address(settings.clamd_address)
    store = FileStore(settings.upload_dir)
    with context.unit() as unit:
        claimed = claim_due(
            unit,
            Attachment,
            due=Attachment.next_scan_at,
            where=[Attachment.virus_scan_status == PENDING],
            limit=batch,
        )
        unit.commit()
    decided = 0
    for file_id in claimed:
        with context.unit() as unit:
            if _scan_one(unit, store, scanner, file_id):
                decided += 1
            unit.commit()
    return decided


def _scan_one(unit: UnitOfWork, store: FileStore, scanner: Scanner, file_id: int) -> bool:
    """Scan one claimed file and record the verdict; False when it could not be scanned."""
    attachment = AttachmentRepository(unit).for_scan(file_id)
    if attachment is None or attachment.virus_scan_status != PENDING:
        return False  # deleted, or decided, since it was claimed
    try:
        verdict = scanner.scan(store.path_of(attachment.stored_filename))
    except (ScanError, OSError) as exc:
        attachment.scan_attempts += 1
        delay = min(2**attachment.scan_attempts, MAX_RETRY_SECONDS)
        attachment.next_scan_at = utcnow() + timedelta(seconds=delay)
        logger.warning("file %s: scan failed, retried in %d s: %s", attachment.id, delay, exc)
        return False
    attachment.scanned_at = utcnow()
    attachment.scan_result = verdict.signature
    if verdict.infected:
        logger.warning("file %s: %s found, quarantined", attachment.id, verdict.signature)
        attachment.virus_scan_status = INFECTED
        unit.after_commit(_quarantine_later(store, attachment.stored_filename))
    else:
        attachment.virus_scan_status = CLEAN
    return True


def _quarantine_later(store: FileStore, stored_filename: str) -> Callable[[], None]:
    def move() -> None:
        store.quarantine(stored_filename)

    return move
