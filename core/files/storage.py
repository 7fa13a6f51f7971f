"""Uploaded files on local disk, under one configured directory and never at a path the client chose.

A file is stored as "<uuid4>_<safe name>" in `<root>/files`: the random prefix makes names unique
and unguessable, the sanitised original keeps them readable for operators. Writes go to a
temporary file in the same directory that is fsync'd and then renamed into place, so a crash or an
oversized upload never leaves a partial file under a real name. Files found infected are moved to
`<root>/quarantine` rather than deleted, so they can be inspected.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.files.sniffing import HEAD_SIZE

MAX_NAME_LENGTH = 100
_CHUNK_SIZE = 64 * 1024
_MAX_EXTENSION_LENGTH = 16  # longer "extensions" are just part of the name when truncating
_TEMP_PREFIX = ".upload-"

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
_REPEATS = re.compile(r"_{2,}|\.{2,}|-{2,}")


class FileTooLarge(Exception):  # noqa: N818 - reads as a condition, like the HTTP status it maps to
    """The upload is larger than allowed."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"file is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class EmptyFile(Exception):  # noqa: N818 - named like FileTooLarge
    """The upload has no content."""

    def __init__(self) -> None:
        super().__init__("file is empty")


@dataclass(frozen=True)
class StoredFile:
    """A file written to the store: its name there, size, first `HEAD_SIZE` bytes (for sniffing) and path."""

    stored_filename: str
    size: int
    head: bytes
    path: Path


class FileStore:
    """Files under `root/files`, and infected ones under `root/quarantine`; both are created when first needed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files_dir = self.root / "files"
        self.quarantine_dir = self.root / "quarantine"

    @staticmethod
    def safe_name(original: str) -> str:
        """A harmless version of a client's file name: ASCII letters, digits, "._-", at most 100 characters."""
        name = original.replace("\\", "/").rsplit("/", 1)[-1]
        name = unicodedata.normalize("NFC", name)
        name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
        name = _UNSAFE_CHARACTERS.sub("_", name)
        name = _REPEATS.sub(lambda match: match.group(0)[0], name)
        name = name.lstrip(".")
        if len(name) > MAX_NAME_LENGTH:
            stem, dot, extension = name.rpartition(".")
            if dot and stem and len(extension) < _MAX_EXTENSION_LENGTH:
                name = stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip(".") + "." + extension
            else:
                name = name[:MAX_NAME_LENGTH]
        if not name.strip("._-"):
            return "file"
        return name

    def save(self, source: BinaryIO, original_filename: str, max_bytes: int) -> StoredFile:
        """Stream `source` into a new file; raise `FileTooLarge` past `max_bytes` and `EmptyFile` at 0 bytes."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        stored_filename = f"{uuid.uuid4()}_{self.safe_name(original_filename)}"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(dir=self.files_dir, prefix=_TEMP_PREFIX, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as target:
                size, head = _copy(source, target, max_bytes)
                target.flush()
                os.fsync(target.fileno())
            if size == 0:
                raise EmptyFile()
            path = self.files_dir / stored_filename
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(self.files_dir)
        return StoredFile(stored_filename=stored_filename, size=size, head=head, path=path)

    def path_of(self, stored_filename: str) -> Path:
        """Where a stored (not quarantined) file is; ValueError for a name that could point elsewhere."""
        return self.files_dir / _checked(stored_filename)

    def quarantined_path(self, stored_filename: str) -> Path:
        """Where a file is once quarantined."""
        return self.quarantine_dir / _checked(stored_filename)

    def quarantine(self, stored_filename: str) -> Path:
        """Move a stored file into quarantine and return its new path; a file already there stays there."""
        source = self.path_of(stored_filename)
        target = self.quarantined_path(stored_filename)
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except FileNotFoundError:
            if not target.exists():
                raise
            return target
        _fsync_directory(self.quarantine_dir)
        return target

    def remove(self, stored_filename: str) -> None:
        """Delete a file, stored or quarantined; a file that is already gone is not an error."""
        self.path_of(stored_filename).unlink(missing_ok=True)
        self.quarantined_path(stored_filename).unlink(missing_ok=True)


def _copy(source: BinaryIO, target: BinaryIO, max_bytes: int) -> tuple[int, bytes]:
    """Copy in chunks, stopping as soon as more than `max_bytes` came; return the size and the head."""
    size = 0
    head = bytearray()
    while chunk := source.read(_CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(max_bytes)
        if len(head) < HEAD_SIZE:
            head += chunk[: HEAD_SIZE - len(head)]
        target.write(chunk)
    return size, bytes(head)


def _checked(stored_filename: str) -> str:
    """`stored_filename` if it is a plain name inside the store's directories, else ValueError."""
    if (
        not stored_filename
        or stored_filename.startswith(".")  # also ".", ".." and temporary files
        or ".." in stored_filename
        or any(separator in stored_filename for separator in ("/", "\\", "\0"))
    ):
        raise ValueError(f"not a stored file name: {stored_filename!r}")
    return stored_filename


def _fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
