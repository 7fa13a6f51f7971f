"""Decide what an uploaded file really is from its first bytes, not from what the client says.

The declared Content-Type and the file name are chosen by the client, so they only break ties
the content cannot: an OLE2 container is .doc or .xls, and an Office Open XML zip whose head
does not show its parts is .docx or .xlsx. When declaration and content disagree the content
wins, and content that is none of the allowed types is refused whatever it claims to be.

Binary formats are matched with the `filetype` package's matchers; only the allowed ones are
run, so its weaker matchers of other formats (e.g. DICOM's three bytes at offset 128) cannot
refuse a CSV that happens to contain them. Text is checked by hand: no NUL byte and UTF-8.
"""

from __future__ import annotations

import codecs

import filetype  # type: ignore[import-untyped, unused-ignore]
from filetype.types import archive, document, image  # type: ignore[import-untyped, unused-ignore]

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
GIF = "image/gif"
TIFF = "image/tiff"
HEIC = "image/heic"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLS = "application/vnd.ms-excel"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
TEXT = "text/plain"

ALLOWED_TYPES: frozenset[str] = frozenset({PDF, JPEG, PNG, GIF, TIFF, HEIC, DOC, DOCX, XLS, XLSX, CSV, TEXT})

HEAD_SIZE = 8 * 1024  # how much of a file sniffing looks at
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

# Allowed formats recognisable by their signature alone.
_SIGNATURE_MATCHERS = (image.Jpeg(), image.Png(), image.Gif(), image.Tiff(), image.Heic(), archive.Pdf())
# filetype takes any "GIF" prefix; a text starting with "GIFT" is not an image.
_GIF_VERSIONS = (b"GIF87a", b"GIF89a")
_OOXML_MATCHERS = (document.Docx(), document.Xlsx())
# Formats written in plain text that office or print software interprets: not "plain text".
_TEXT_DOCUMENT_MATCHERS = (archive.Rtf(), archive.Ps())

_CSV_DECLARED = frozenset({CSV, "application/csv", "text/x-csv", "text/comma-separated-values"})
_OLE2_BY_EXTENSION = {"doc": DOC, "xls": XLS}
_OOXML_BY_EXTENSION = {"docx": DOCX, "xlsx": XLSX}
# Top-level part folders of the OOXML formats; pptx ("ppt/") is not allowed.
_OOXML_PART_FOLDERS = {"word/": DOCX, "xl/": XLSX, "ppt/": None}
# Parts that mark a zip as an OOXML package, whatever its kind.
_OOXML_MARKERS = ("[Content_Types].xml", "_rels/", "docProps/")


def sniff(head: bytes, declared: str | None, filename: str) -> str | None:
    """The MIME type to store for a file starting with `head` (its first 8 KiB), or None to refuse it."""
    head = head[:HEAD_SIZE]  # the same answer however much the caller passed
    if not head:
        return None
    declared_type = _media_type(declared)
    extension = _extension(filename)
    if head.startswith(OLE2_MAGIC):
        return _ole2_type(declared_type, extension)
    if head.startswith(ZIP_MAGIC):
        return _ooxml_type(head, declared_type, extension)
    kind = filetype.match(head, _SIGNATURE_MATCHERS)
    if kind is not None and (kind.mime != GIF or head.startswith(_GIF_VERSIONS)):
        return str(kind.mime)
    if filetype.match(head, _TEXT_DOCUMENT_MATCHERS) is not None or not _is_text(head):
        return None
    return CSV if declared_type in _CSV_DECLARED or extension == "csv" else TEXT


def _media_type(declared: str | None) -> str:
    """`declared` without parameters, lower case ("" when absent)."""
    return (declared or "").split(";", 1)[0].strip().lower()


def _extension(filename: str) -> str:
    """The lower-case extension of the last path component of `filename`, without the dot."""
    basename = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = basename.rpartition(".")
    return extension.strip().lower() if dot and stem else ""


def _ole2_type(declared_type: str, extension: str) -> str | None:
    """.doc or .xls: the legacy container looks the same for both, so the client's word decides."""
    if declared_type in (DOC, XLS):
        return declared_type
    return _OLE2_BY_EXTENSION.get(extension)


def _ooxml_type(head: bytes, declared_type: str, extension: str) -> str | None:
    """.docx or .xlsx by their parts when the head shows them, else by the client's word if it is OOXML at all."""
    kind = filetype.match(head, _OOXML_MATCHERS)
    if kind is not None:
        return str(kind.mime)
    names = _zip_entry_names(head)
    for name in names:
        for folder, mime in _OOXML_PART_FOLDERS.items():
            if name.startswith(folder):
                return mime
    if not any(name.startswith(_OOXML_MARKERS) for name in names):
        return None  # a plain zip, jar, OpenDocument, epub...
    if declared_type in (DOCX, XLSX):
        return declared_type
    return _OOXML_BY_EXTENSION.get(extension)


def _zip_entry_names(head: bytes) -> list[str]:
    """Names of the zip entries whose local header lies wholly within `head`, in order."""
    names: list[str] = []
    position = head.find(ZIP_MAGIC)
    while position != -1 and position + 30 <= len(head):
        name_length = int.from_bytes(head[position + 26 : position + 28], "little")
        name = head[position + 30 : position + 30 + name_length]
        if len(name) == name_length:
            names.append(name.decode("utf-8", "replace"))
        position = head.find(ZIP_MAGIC, position + 4)
    return names


def _is_text(head: bytes) -> bool:
    """No NUL byte and valid UTF-8, except that the last character may be cut short by the 8 KiB limit."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
