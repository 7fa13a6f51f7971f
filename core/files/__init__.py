"""Building blocks for file attachments (quotes, invoices, photos...) shared by the APIs that accept uploads.

An upload goes through three independent steps, each in its own module so an API can compose them
as its contract requires: `storage` writes it to disk under a server-chosen name within a size
limit, `sniffing` decides from its first bytes what it really is (and refuses what is not allowed),
and `scanning` has it checked for viruses, after which an infected file is moved to quarantine.
"""

from __future__ import annotations

from core.files.downloads import content_disposition
from core.files.scanning import (
    ClamdScanner,
    ScanError,
    Scanner,
    SignatureScanner,
    Verdict,
    scanner_from_address,
)
from core.files.sniffing import ALLOWED_TYPES, sniff
from core.files.storage import EmptyFile, FileStore, FileTooLarge, StoredFile

__all__ = [
    "ALLOWED_TYPES",
    "ClamdScanner",
    "EmptyFile",
    "FileStore",
    "FileTooLarge",
    "ScanError",
    "Scanner",
    "SignatureScanner",
    "StoredFile",
    "Verdict",
    "content_disposition",
    "scanner_from_address",
    "sniff",
]
