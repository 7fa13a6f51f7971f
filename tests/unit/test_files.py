"""core.files without HTTP: content sniffing, virus scanning (against a fake clamd) and disk storage."""

from __future__ import annotations

import binascii
import io
import re
import socket
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.files import (
    ALLOWED_TYPES,
    ClamdScanner,
    EmptyFile,
    FileStore,
    FileTooLarge,
    ScanError,
    SignatureScanner,
    StoredFile,
    Verdict,
    scanner_from_address,
    sniff,
)
from core.files.scanning import EICAR, EICAR_SIGNATURE
from core.files.sniffing import CSV, DOC, DOCX, GIF, HEIC, JPEG, OLE2_MAGIC, PDF, PNG, TEXT, TIFF, XLS, XLSX

# --- sample files -------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data))


PNG_FILE = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    + _png_chunk(b"IEND", b"")
)
APNG_FILE = PNG_FILE[:33] + _png_chunk(b"acTL", struct.pack(">II", 1, 0)) + PNG_FILE[33:]
JPEG_FILE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF_FILE = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PDF_FILE = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TIFF_FILE = b"II*\x00\x08\x00\x00\x00\x00\x00" + b"\x00" * 16
HEIC_FILE = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 32
OLE2_FILE = OLE2_MAGIC + b"\x00" * 1016
ELF_FILE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
EXE_FILE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def _zip(*entries: tuple[str, bytes], stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    compression = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX_FILE = _zip(
    ("[Content_Types].xml", CONTENT_TYPES),
    ("_rels/.rels", b"<Relationships/>"),
    ("word/document.xml", b"<w:document/>"),
)
XLSX_FILE = _zip(("[Content_Types].xml", CONTENT_TYPES), ("xl/workbook.xml", b"<workbook/>"))
# openpyxl's order: [Content_Types].xml comes last.
XLSX_OPENPYXL_FILE = _zip(
    ("docProps/app.xml", b"<Properties/>"),
    ("docProps/core.xml", b"<cp:coreProperties/>"),
    ("xl/theme/theme1.xml", b"<a:theme/>"),
    ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
    ("[Content_Types].xml", CONTENT_TYPES),
)
# A first part so large that the head shows no other: only the client can say docx or xlsx.
OOXML_OPAQUE_FILE = _zip(
    ("[Content_Types].xml", CONTENT_TYPES + b" " * 9000), ("word/document.xml", b"<w:document/>"), stored=True
)
PPTX_FILE = _zip(("[Content_Types].xml", CONTENT_TYPES), ("ppt/presentation.xml", b"<p:presentation/>"))
ODT_FILE = _zip(("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<office/>"), stored=True)
PLAIN_ZIP_FILE = _zip(("readme.txt", b"hello"), ("setup.exe", EXE_FILE))
JAR_FILE = _zip(("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"), ("Main.class", b"\xca\xfe\xba\xbe"))


# --- sniffing -----------------------------------------------------------------------------


def test_allowed_types_are_the_agreed_ones() -> None:
    assert {PDF, JPEG, PNG, GIF, TIFF, HEIC, DOC, DOCX, XLS, XLSX, CSV, TEXT} == ALLOWED_TYPES
    assert len(ALLOWED_TYPES) == 12


@pytest.mark.parametrize(
    ("head", "declared", "filename", "expected"),
    [
        pytest.param(PDF_FILE, "application/pdf", "quote.pdf", PDF, id="pdf"),
        pytest.param(b"\xef\xbb\xbf" + PDF_FILE, "application/pdf", "quote.pdf", PDF, id="pdf-with-bom"),
        pytest.param(PNG_FILE, "image/png", "photo.png", PNG, id="png"),
        pytest.param(APNG_FILE, "image/apng", "anim.png", PNG, id="apng-is-png"),
        pytest.param(JPEG_FILE, "image/jpeg", "photo.jpg", JPEG, id="jpeg"),
        pytest.param(GIF_FILE, "image/gif", "photo.gif", GIF, id="gif"),
        pytest.param(TIFF_FILE, "image/tiff", "scan.tif", TIFF, id="tiff"),
        pytest.param(HEIC_FILE, "image/heic", "IMG_0001.HEIC", HEIC, id="heic"),
        pytest.param(DOCX_FILE, DOCX, "letter.docx", DOCX, id="docx"),
        pytest.param(XLSX_FILE, XLSX, "prices.xlsx", XLSX, id="xlsx"),
        pytest.param(XLSX_OPENPYXL_FILE, "application/octet-stream", "export", XLSX, id="xlsx-parts-last"),
        pytest.param(DOCX_FILE, XLSX, "letter.xlsx", DOCX, id="docx-claiming-xlsx"),
        pytest.param(OOXML_OPAQUE_FILE, DOCX, "letter", DOCX, id="ooxml-declared-docx"),
        pytest.param(OOXML_OPAQUE_FILE, "application/octet-stream", "prices.XLSX", XLSX, id="ooxml-by-extension"),
        pytest.param(OOXML_OPAQUE_FILE, "application/octet-stream", "letter.zip", None, id="ooxml-no-hint"),
        pytest.param(PPTX_FILE, DOCX, "slides.docx", None, id="pptx-claiming-docx"),
        pytest.param(ODT_FILE, DOCX, "letter.docx", None, id="odt-claiming-docx"),
        pytest.param(PLAIN_ZIP_FILE, DOCX, "letter.docx", None, id="zip-claiming-docx"),
        pytest.param(JAR_FILE, XLSX, "prices.xlsx", None, id="jar-claiming-xlsx"),
        pytest.param(OLE2_FILE, DOC, "letter", DOC, id="ole2-declared-doc"),
        pytest.param(OLE2_FILE, f"{XLS}; charset=binary", "sheet", XLS, id="ole2-declared-xls"),
        pytest.param(OLE2_FILE, "application/octet-stream", "LETTER.DOC", DOC, id="ole2-doc-by-extension"),
        pytest.param(OLE2_FILE, None, "sheet.xls", XLS, id="ole2-xls-by-extension"),
        pytest.param(OLE2_FILE, "application/octet-stream", "setup.msi", None, id="ole2-no-hint"),
        pytest.param(OLE2_FILE, PDF, "x.pdf", None, id="ole2-claiming-pdf"),
        pytest.param(PNG_FILE, PDF, "invoice.pdf", PNG, id="png-claiming-pdf"),
        pytest.param(JPEG_FILE, None, "", JPEG, id="jpeg-undeclared"),
        pytest.param(ELF_FILE, PDF, "invoice.pdf", None, id="elf-claiming-pdf"),
        pytest.param(EXE_FILE, PDF, "invoice.pdf", None, id="exe-claiming-pdf"),
        pytest.param(bytes(range(256)) * 4, "application/octet-stream", "x.bin", None, id="binary-junk"),
        pytest.param(b"\xff\xfe\xfd\xfc" * 100, TEXT, "x.txt", None, id="junk-without-nul"),
        pytest.param(b"\x1f\x8b\x08\x00" + b"\x00" * 20, "text/csv", "x.csv", None, id="gzip-claiming-csv"),
        pytest.param(b"", PDF, "x.pdf", None, id="empty"),
    ],
)
def test_sniff_trusts_content(head: bytes, declared: str | None, filename: str, expected: str | None) -> None:
    assert sniff(head, declared, filename) == expected


@pytest.mark.parametrize(
    ("head", "declared", "filename", "expected"),
    [
        pytest.param(b"sku,qty\nA-1,2\n", "text/csv", "order.csv", CSV, id="csv"),
        pytest.param(b"sku,qty\nA-1,2\n", "text/csv; charset=utf-8", "order", CSV, id="csv-with-parameters"),
        pytest.param(b"sku,qty\nA-1,2\n", "application/octet-stream", "ORDER.CSV", CSV, id="csv-by-extension"),
        pytest.param(b"sku,qty\nA-1,2\n", XLS, "order.csv", CSV, id="csv-as-windows-declares-it"),
        pytest.param(b"sku,qty\nA-1,2\n", None, "C:\\Users\\me\\order.csv", CSV, id="csv-windows-path"),
        pytest.param(b"Hello\r\nWorld\t!\n", TEXT, "notes.txt", TEXT, id="plain"),
        pytest.param(b"sku,qty\n", PDF, "order.pdf", TEXT, id="text-claiming-pdf"),
        pytest.param(b"sku,qty\n", "image/png", "order.png", TEXT, id="text-claiming-png"),
        pytest.param("Grüße, €100 ✓\n".encode(), None, "notes", TEXT, id="utf8"),
        pytest.param(b"\xef\xbb\xbfsku,qty\n", "text/csv", "x.csv", CSV, id="utf8-bom"),
        pytest.param(b"GIFT,QTY\ncard,1\n", "text/csv", "gifts.csv", CSV, id="starts-like-gif"),
        pytest.param(b"x" * 128 + b"DICM" + b"\n", None, "x.txt", TEXT, id="looks-like-dicom-at-128"),
        pytest.param(b"ID3 tags\n", None, "x.txt", TEXT, id="looks-like-mp3"),
        pytest.param(b"%PDF-1.4 but truly text", TEXT, "x.txt", PDF, id="pdf-signature-wins"),
    ],
)
def test_sniff_text(head: bytes, declared: str | None, filename: str, expected: str) -> None:
    assert sniff(head, declared, filename) == expected


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"a,b\n\x00\x01", id="nul"),
        pytest.param("a,b\nMüller\n".encode("latin-1"), id="latin-1"),
        pytest.param("a,b\n".encode("utf-16"), id="utf-16"),
        pytest.param(b"abc\xe2\x82 def", id="cut-character-in-the-middle"),
        pytest.param(b"abc\xed\xa0\x80 def", id="surrogate"),
        pytest.param(b"{\\rtf1\\ansi hello}", id="rtf"),
        pytest.param(b"%!PS-Adobe-3.0\nshowpage\n", id="postscript"),
    ],
)
def test_sniff_refuses_what_is_not_text(head: bytes) -> None:
    assert sniff(head, "text/plain", "notes.txt") is None


def test_sniff_allows_a_character_cut_by_the_head_limit() -> None:
    head = ("€" * 3000).encode()[:8192]  # 2730 whole characters and two bytes of the next
    assert head.endswith(b"\xe2\x82")
    assert sniff(head, "text/csv", "x.csv") == CSV


def test_sniff_only_returns_allowed_types() -> None:
    samples = [PDF_FILE, PNG_FILE, JPEG_FILE, GIF_FILE, TIFF_FILE, HEIC_FILE, DOCX_FILE, XLSX_FILE, OLE2_FILE, b"a\n"]
    for head in samples:
        for declared in (None, "application/octet-stream", DOC, XLS, DOCX, XLSX, CSV):
            result = sniff(head, declared, "file.doc")
            assert result is None or result in ALLOWED_TYPES


# --- signature scanner --------------------------------------------------------------------


def test_eicar_is_the_standard_string() -> None:
    assert len(EICAR) == 68
    assert EICAR.startswith(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-")


def test_signature_scanner_detects_eicar(tmp_path: Path) -> None:
    path = tmp_path / "eicar.com"
    path.write_bytes(EICAR)
    assert SignatureScanner().scan(path) == Verdict(infected=True, signature=EICAR_SIGNATURE)


def test_signature_scanner_detects_eicar_inside_a_larger_file(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(PDF_FILE + b"\x00" * (64 * 1024 - len(PDF_FILE) - 30) + EICAR + b"\x00" * 100_000)
    verdict = SignatureScanner().scan(path)  # the string straddles the default 64 KiB chunks
    assert verdict.infected
    assert verdict.signature == EICAR_SIGNATURE


@pytest.mark.parametrize("offset", [0, 1, 30, 63, 64, 65, 100, 127, 128, 129, 200])
def test_signature_scanner_finds_eicar_across_chunk_boundaries(tmp_path: Path, offset: int) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(b"x" * offset + EICAR + b"y" * 50)
    assert SignatureScanner(chunk_size=64).scan(path).infected


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(PDF_FILE, id="pdf"),
        pytest.param(EICAR[:-1], id="eicar-cut-short"),
        pytest.param(EICAR[:30] + b"\n" + EICAR[30:], id="eicar-split"),
        pytest.param(b"", id="empty"),
    ],
)
def test_signature_scanner_passes_clean_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(content * 3)
    assert SignatureScanner(chunk_size=16).scan(path) == Verdict(infected=False, signature=None)


def test_signature_scanner_rejects_a_useless_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        SignatureScanner(chunk_size=0)


# --- clamd scanner ------------------------------------------------------------------------


def _receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = connection.recv(size - len(data))
        if not part:
            raise ConnectionError("client hung up")
        data += part
    return data


class FakeClamd:
    """One-connection clamd stand-in: reads an INSTREAM, then sends `reply` (or nothing, when None)."""

    def __init__(self, listener: socket.socket, reply: bytes | None, read_limit: int | None = None) -> None:
        self.listener = listener
        self.reply = reply
        self.read_limit = read_limit
        self.command = b""
        self.received = bytearray()
        self.chunks = 0
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            self.command = _receive_exactly(connection, len(b"zINSTREAM\0"))
            while self.read_limit is None or len(self.received) < self.read_limit:
                (length,) = struct.unpack(">I", _receive_exactly(connection, 4))
                if length == 0:
                    break
                self.received += _receive_exactly(connection, length)
                self.chunks += 1
            if self.reply is None:
                self.release.wait(10)
            else:
                connection.sendall(self.reply)

    def stop(self) -> None:
        self.release.set()
        self.thread.join(10)
        self.listener.close()


StartClamd = Callable[..., FakeClamd]


@pytest.fixture
def fake_clamd(tmp_path: Path) -> Iterator[StartClamd]:
    """Starts fake clamd servers on a UNIX socket in tmp_path (or TCP on localhost); stops them afterwards."""
    servers: list[FakeClamd] = []

    def start(reply: bytes | None, *, tcp: bool = False, read_limit: int | None = None) -> FakeClamd:
        if tcp:
            listener = socket.create_server(("127.0.0.1", 0))
        else:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(tmp_path / "clamd.sock"))
            listener.listen(1)
        listener.settimeout(10)
        server = FakeClamd(listener, reply, read_limit)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        assert not server.thread.is_alive()


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "upload.pdf"
    path.write_bytes(PDF_FILE * 200)  # several chunks of 1000 bytes
    return path


def test_clamd_clean(tmp_path: Path, upload: Path, fake_clamd: StartClamd) -> None:
    server = fake_clamd(b"stream: OK\0")
    scanner = ClamdScanner(str(tmp_path / "clamd.sock"), chunk_size=1000)
    assert scanner.scan(upload) == Verdict(infected=False, signature=None)
    server.thread.join(10)
    assert server.command == b"zINSTREAM\0"
    assert bytes(server.received) == upload.read_bytes()
    assert server.chunks == -(-upload.stat().st_size // 1000)


def test_clamd_found(tmp_path: Path, upload: Path, fake_clamd: StartClamd) -> None:
    fake_clamd(b"stream: Eicar-Test-Signature FOUND\0")
    verdict = ClamdScanner(f"unix://{tmp_path / 'clamd.sock'}").scan(upload)
    assert verdict == Verdict(infected=True, signature="Eicar-Test-Signature")


def test_clamd_over_tcp(upload: Path, fake_clamd: StartClamd) -> None:
    server = fake_clamd(b"stream: Win.Test.EICAR_HDB-1 FOUND\0", tcp=True)
    host, port = server.listener.getsockname()
    verdict = ClamdScanner(f"tcp://{host}:{port}", timeout=5).scan(upload)
    assert verdict == Verdict(infected=True, signature="Win.Test.EICAR_HDB-1")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(b"stream: Can't allocate memory ERROR\0", "allocate memory ERROR", id="error"),
        pytest.param(b"UNKNOWN COMMAND\0", "unexpected reply", id="nonsense"),
        pytest.param(b"", "without a verdict", id="hang-up"),
    ],
)
def test_clamd_failures_are_scan_errors(
    tmp_path: Path, upload: Path, fake_clamd: StartClamd, reply: bytes, message: str
) -> None:
    fake_clamd(reply)
    with pytest.raises(ScanError, match=message):
        ClamdScanner(str(tmp_path / "clamd.sock")).scan(upload)


def test_clamd_stream_limit_reply_is_reported(tmp_path: Path, fake_clamd: StartClamd) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x01" * (8 * 1024 * 1024))
    fake_clamd(b"INSTREAM size limit exceeded. ERROR\0", read_limit=64 * 1024)
    with pytest.raises(ScanError, match="size limit exceeded"):
        ClamdScanner(str(tmp_path / "clamd.sock"), timeout=5).scan(path)


def test_clamd_refused_is_a_scan_error(tmp_path: Path, upload: Path) -> None:
    socket_path = tmp_path / "clamd.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(socket_path))  # bound, never listening: connections are refused
        with pytest.raises(ScanError, match="refused"):
            ClamdScanner(str(socket_path)).scan(upload)


def test_clamd_missing_socket_is_a_scan_error(tmp_path: Path, upload: Path) -> None:
    with pytest.raises(ScanError):
        ClamdScanner(str(tmp_path / "nothing.sock")).scan(upload)


def test_clamd_timeout_is_a_scan_error(tmp_path: Path, upload: Path, fake_clamd: StartClamd) -> None:
    fake_clamd(None)  # reads the stream, never answers
    with pytest.raises(ScanError, match="timed out"):
        ClamdScanner(str(tmp_path / "clamd.sock"), timeout=0.2).scan(upload)


def test_clamd_missing_file_is_not_a_scan_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ClamdScanner(str(tmp_path / "clamd.sock")).scan(tmp_path / "gone.pdf")


@pytest.mark.parametrize(
    ("address", "kwargs", "message"),
    [
        pytest.param("tcp://:3310", {}, "no host", id="no-host"),
        pytest.param("tcp://clamd:port", {}, "Port", id="bad-port"),
        pytest.param("unix://", {}, "empty", id="no-path"),
        pytest.param("", {}, "empty", id="empty"),
        pytest.param("/run/clamd.sock", {"timeout": 0}, "timeout", id="no-timeout"),
        pytest.param("/run/clamd.sock", {"chunk_size": 0}, "chunk_size", id="no-chunk"),
    ],
)
def test_clamd_rejects_bad_configuration(address: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClamdScanner(address, **kwargs)


@pytest.mark.parametrize("address", [None, "", "   "])
def test_no_clamd_address_means_the_builtin_scanner(address: str | None) -> None:
    assert isinstance(scanner_from_address(address), SignatureScanner)


@pytest.mark.parametrize("address", ["tcp://clamd:3310", "tcp://[::1]:3310", "/run/clamav/clamd.ctl"])
def test_clamd_address_means_clamd(address: str) -> None:
    scanner = scanner_from_address(address, timeout=5)
    assert isinstance(scanner, ClamdScanner)
    assert scanner.name == "clamd"
    assert scanner.timeout == 5


def test_default_timeout_is_thirty_seconds() -> None:
    scanner = scanner_from_address("tcp://clamd")
    assert isinstance(scanner, ClamdScanner)
    assert scanner.timeout == 30


# --- storage ------------------------------------------------------------------------------

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("invoice-2024_03.pdf", "invoice-2024_03.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\evil\\x.pdf", "x.pdf"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/quote.pdf", "quote.pdf"),
        ("Angebot Müller.pdf", "Angebot_M_ller.pdf"),
        ("Angebot Mu\u0308ller.pdf", "Angebot_M_ller.pdf"),  # decomposed ü: one character after NFC
        ("日本語の見積書.pdf", "_.pdf"),
        ("a  b??c.pdf", "a_b_c.pdf"),
        ("a\x00b\nc\r.pdf", "abc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override is dropped, not disguised
        ("x..pdf", "x.pdf"),
        ("report---final.pdf", "report-final.pdf"),
        (".htaccess", "htaccess"),
        ("...pdf", "pdf"),
        ("", "file"),
        ("...", "file"),
        ("../", "file"),
        ("???", "file"),
        ("  ", "file"),
    ],
)
def test_safe_name(original: str, expected: str) -> None:
    assert FileStore.safe_name(original) == expected


def test_safe_name_shortens_long_names_keeping_the_extension() -> None:
    name = FileStore.safe_name("a" * 300 + ".pdf")
    assert name == "a" * 96 + ".pdf"
    assert FileStore.safe_name("b" * 300) == "b" * 100
    assert len(FileStore.safe_name("c" * 50 + "." + "d" * 250)) == 100


def test_safe_name_never_makes_dot_dot_when_shortening() -> None:
    name = FileStore.safe_name("a" * 95 + "." + "b" * 10 + ".pdf")
    assert name == "a" * 95 + ".pdf"


@pytest.mark.parametrize(
    "original",
    [
        "../../etc/passwd",
        "..",
        "./.././..",
        "C:\\evil\\..\\x.pdf",
        "\x00\x01\x02",
        "con.txt:stream",
        "…/…/x",
        "a/" * 200,
        ". . .pdf",
        "%2e%2e%2fpasswd",
        "x" * 1000 + "." + "y" * 1000,
        "-rf .pdf",
        "\u202e" * 10,
    ],
)
def test_safe_names_are_always_usable(tmp_path: Path, original: str) -> None:
    name = FileStore.safe_name(original)
    assert SAFE_NAME.fullmatch(name), name
    assert ".." not in name
    FileStore(tmp_path).path_of(f"00000000-0000-4000-8000-000000000000_{name}")  # accepted as a stored name


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_store_creates_its_directories_lazily(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    assert not (tmp_path / "store").exists()
    store.save(io.BytesIO(b"x"), "x.txt", 10)
    assert (tmp_path / "store" / "files").is_dir()


def test_save(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    content = PDF_FILE * 500  # larger than a head and than a chunk
    stored = store.save(io.BytesIO(content), "../Quote #42.pdf", max_bytes=len(content))
    assert isinstance(stored, StoredFile)
    assert re.fullmatch(UUID4 + r"_Quote_42\.pdf", stored.stored_filename)
    assert stored.size == len(content)
    assert stored.head == content[:8192]
    assert stored.path == tmp_path / "files" / stored.stored_filename == store.path_of(stored.stored_filename)
    assert stored.path.read_bytes() == content
    assert _files(tmp_path / "files") == [stored.stored_filename]


def test_save_keeps_the_whole_head_of_a_small_file(tmp_path: Path) -> None:
    stored = FileStore(tmp_path).save(io.BytesIO(b"a,b\n"), "x.csv", 100)
    assert stored.head == b"a,b\n"
    assert stored.size == 4


def test_save_gives_each_upload_its_own_name(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    first = store.save(io.BytesIO(b"one"), "same.txt", 10)
    second = store.save(io.BytesIO(b"two"), "same.txt", 10)
    assert first.stored_filename != second.stored_filename
    assert first.path.read_bytes() == b"one"
    assert second.path.read_bytes() == b"two"


def test_save_accepts_exactly_max_bytes(tmp_path: Path) -> None:
    assert FileStore(tmp_path).save(io.BytesIO(b"x" * 100), "x.txt", 100).size == 100


def test_save_refuses_a_file_too_large(tmp_path: Path) -> None:
    with pytest.raises(FileTooLarge) as raised:
        FileStore(tmp_path).save(io.BytesIO(b"x" * 101), "x.txt", 100)
    assert raised.value.max_bytes == 100
    assert _files(tmp_path / "files") == []


class EndlessStream(io.BytesIO):
    """A client that never stops sending."""

    def __init__(self) -> None:
        super().__init__()
        self.read_bytes = 0

    def read(self, size: int | None = -1, /) -> bytes:
        size = 64 * 1024 if size is None or size < 0 else size
        self.read_bytes += size
        return b"x" * size


def test_save_stops_reading_once_too_large(tmp_path: Path) -> None:
    stream = EndlessStream()
    with pytest.raises(FileTooLarge):
        FileStore(tmp_path).save(stream, "x.bin", 1_000_000)
    assert stream.read_bytes < 1_000_000 + 128 * 1024
    assert _files(tmp_path / "files") == []


def test_save_refuses_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyFile):
        FileStore(tmp_path).save(io.BytesIO(b""), "x.txt", 100)
    assert _files(tmp_path / "files") == []


def test_save_rejects_a_useless_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        FileStore(tmp_path).save(io.BytesIO(b"x"), "x.txt", 0)


class WatchedStream(io.BytesIO):
    """Records, at each read, which names the store's directory shows."""

    def __init__(self, content: bytes, directory: Path) -> None:
        super().__init__(content)
        self.directory = directory
        self.seen: list[list[str]] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.seen.append(_files(self.directory))
        return super().read(size)


def test_save_writes_atomically(tmp_path: Path) -> None:
    stream = WatchedStream(b"x" * 200_000, tmp_path / "files")
    stored = FileStore(tmp_path).save(stream, "x.bin", 1_000_000)
    assert len(stream.seen) > 2
    for names in stream.seen:  # while writing, only a hidden temporary file exists
        assert len(names) == 1
        assert names[0].startswith(".")
        assert stored.stored_filename not in names
    assert _files(tmp_path / "files") == [stored.stored_filename]


class BrokenStream(io.BytesIO):
    """A client that goes away halfway through."""

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() > 100_000:
            raise ConnectionResetError("client went away")
        return super().read(size)


def test_save_leaves_nothing_when_the_upload_breaks(tmp_path: Path) -> None:
    with pytest.raises(ConnectionResetError):
        FileStore(tmp_path).save(BrokenStream(b"x" * 300_000), "x.bin", 1_000_000)
    assert _files(tmp_path / "files") == []


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../x", "a/b", "a\\b", "x/../../etc/passwd", "a..b", ".upload-123.tmp", "a\x00b"]
)
def test_path_of_refuses_names_that_could_escape(tmp_path: Path, name: str) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(ValueError, match="not a stored file name"):
        store.path_of(name)
    with pytest.raises(ValueError, match="not a stored file name"):
        store.quarantined_path(name)
    with pytest.raises(ValueError, match="not a stored file name"):
        store.remove(name)


def test_quarantine(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.save(io.BytesIO(EICAR), "eicar.com", 1000)
    path = store.quarantine(stored.stored_filename)
    assert path == tmp_path / "quarantine" / stored.stored_filename == store.quarantined_path(stored.stored_filename)
    assert path.read_bytes() == EICAR
    assert not stored.path.exists()
    assert store.quarantine(stored.stored_filename) == path  # already there: no error
    assert path.read_bytes() == EICAR


def test_quarantine_of_an_unknown_file_fails(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FileStore(tmp_path).quarantine("00000000-0000-4000-8000-000000000000_x.pdf")


def test_remove(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    kept = store.save(io.BytesIO(b"keep"), "keep.txt", 10)
    stored = store.save(io.BytesIO(b"data"), "x.txt", 10)
    store.remove(stored.stored_filename)
    assert not stored.path.exists()
    store.remove(stored.stored_filename)  # already gone: no error
    assert kept.path.exists()


def test_remove_a_quarantined_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.save(io.BytesIO(EICAR), "eicar.com", 1000)
    path = store.quarantine(stored.stored_filename)
    store.remove(stored.stored_filename)
    assert not path.exists()
    assert _files(tmp_path / "files") == []
    assert _files(tmp_path / "quarantine") == []


def test_remove_in_an_empty_store(tmp_path: Path) -> None:
    FileStore(tmp_path / "never-used").remove("00000000-0000-4000-8000-000000000000_x.pdf")
