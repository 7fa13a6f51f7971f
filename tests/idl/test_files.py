"""File attachments of purchase orders: upload, scanning, quarantine, download, deletion."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import io
import re
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.factory import create_app
from core.files import FileStore, ScanError, Verdict
from core.files.scanning import EICAR
from core.jobs import JobContext
from core.unit_of_work import UnitOfWork
from models.idl.attachments import scan_pending
from models.idl.demo import quote_pdf
from models.idl.tables import Attachment, User
from tests.idl.conftest import BASE, Headers, assert_error, idl_of

PDF = "application/pdf"
STORED_NAME = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(.+)$")
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 120
RANDOM_BINARY = b"".join(hashlib.sha256(number.to_bytes(4, "big")).digest() for number in range(128))

MakeUser = Callable[..., tuple[User, Headers]]
CreateOrder = Callable[..., dict[str, Any]]


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.bin", b"\x00\x01\x02 not an office document")
    return buffer.getvalue()


def upload(
    client: TestClient,
    headers: Headers,
    order_id: int,
    content: bytes,
    filename: str = "quote.pdf",
    content_type: str = PDF,
) -> Any:
    return client.post(
        f"{BASE}/purchase-orders/{order_id}/files", files={"file": (filename, content, content_type)}, headers=headers
    )


def uploaded(client: TestClient, headers: Headers, order_id: int, content: bytes, **options: Any) -> dict[str, Any]:
    response = upload(client, headers, order_id, content, **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def download(client: TestClient, headers: Headers, file_id: int) -> Any:
    return client.get(f"{BASE}/files/{file_id}/download", headers=headers)


def listed(client: TestClient, headers: Headers, order_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/purchase-orders/{order_id}/files", headers=headers)
    assert response.status_code == 200, response.text
    files: list[dict[str, Any]] = response.json()["data"]
    return files


def store_of(settings: Settings) -> FileStore:
    return FileStore(idl_of(settings).upload_dir)


def everything_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def scan_all(unit: UnitOfWork, settings: Settings, scanner: Any = None) -> None:
    """Run the background scan over every pending file (each file commits, and so quarantines, on its own)."""
    unit.commit()
    scan_pending(JobContext(unit.database, settings), idl_of(settings), scanner, batch=100_000)


class FlaggingScanner:
    """A stand-in for clamd that reports files containing `marker` as infected."""

    name = "flagging"

    def __init__(self, marker: bytes) -> None:
        self.marker = marker

    def scan(self, path: Path) -> Verdict:
        if self.marker in path.read_bytes():
            return Verdict(infected=True, signature="Test.Flagged")
        return Verdict(infected=False)


def unique_pdf() -> tuple[bytes, bytes]:
    marker = f"quote-{uuid.uuid4().hex}"
    return quote_pdf(marker), marker.encode()


@pytest.fixture
def foreman(login_as: Callable[[str], Headers]) -> Headers:
    return login_as("foreman")


@pytest.fixture
def admin(login_as: Callable[[str], Headers]) -> Headers:
    return login_as("admin")


@pytest.fixture
def draft(create_order: CreateOrder, foreman: Headers) -> dict[str, Any]:
    """A draft P/O on PRJ001 created by Frank Foreman."""
    return create_order(foreman)


# --- the demo's PDF ----------------------------------------------------------------------------


def test_the_demo_quote_is_a_real_pdf() -> None:
    document = quote_pdf("x")

    assert document.startswith(b"%PDF-1.4\n")
    assert document.rstrip().endswith(b"%%EOF")
    startxref = int(document.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert document[startxref:].startswith(b"xref\n"), "startxref must point at the cross-reference table"
    first_object = int(document.split(b"xref\n0 6\n", 1)[1].split(b"\n")[1].split()[0])
    assert document[first_object:].startswith(b"1 0 obj\n"), "the xref offsets must point at the objects"


# --- upload and download -----------------------------------------------------------------------


def test_a_pdf_uploaded_to_a_draft_is_stored_pending_under_a_server_chosen_name(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    content = quote_pdf("x")

    response = upload(client, foreman, draft["id"], content)

    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["original_filename"] == "quote.pdf"
    match = STORED_NAME.match(body["stored_filename"])
    assert match is not None, body["stored_filename"]
    assert uuid.UUID(match.group(1)).version == 4
    assert match.group(2) == "quote.pdf"
    assert body["file_size"] == len(content)
    assert body["mime_type"] == PDF
    assert body["virus_scan_status"] == "pending"
    frank = client.get(f"{BASE}/users/me", headers=foreman).json()
    assert body["uploaded_by"] == {"id": frank["id"], "name": "Frank Foreman"}
    assert body["uploaded_at"].endswith("Z")
    assert response.headers["location"] == f"{BASE}/files/{body['id']}/download"
    stored = store_of(settings).path_of(body["stored_filename"])
    assert stored.read_bytes() == content


def test_an_uploaded_file_is_on_disk_byte_for_byte_under_the_upload_directory(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    content, _ = unique_pdf()

    body = uploaded(client, foreman, draft["id"], content)

    path = idl_of(settings).upload_dir / "files" / body["stored_filename"]
    assert path.is_file()
    assert path.read_bytes() == content
    assert path.resolve().is_relative_to(idl_of(settings).upload_dir.resolve())


def test_the_file_is_listed_with_the_po_and_in_its_detail(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    content, _ = unique_pdf()
    body = uploaded(client, foreman, draft["id"], content)

    files = listed(client, foreman, draft["id"])
    detail = client.get(f"{BASE}/purchase-orders/{draft['id']}", headers=foreman).json()

    assert files == [
        {
            "id": body["id"],
            "original_filename": "quote.pdf",
            "file_size": len(content),
            "mime_type": body["mime_type"],
            "virus_scan_status": "pending",
            "uploaded_by": body["uploaded_by"],
            "uploaded_at": body["uploaded_at"],
        }
    ]
    assert detail["files"] == [
        {
            "id": body["id"],
            "original_filename": "quote.pdf",
            "file_size": len(content),
            "mime_type": body["mime_type"],
            "uploaded_by": "Frank Foreman",
            "uploaded_at": body["uploaded_at"],
        }
    ]


def test_files_are_listed_oldest_first(client: TestClient, foreman: Headers, draft: dict[str, Any]) -> None:
    first = uploaded(client, foreman, draft["id"], b"first note\n", filename="a.txt", content_type="text/plain")
    second = uploaded(client, foreman, draft["id"], b"second note\n", filename="b.txt", content_type="text/plain")

    assert [file["id"] for file in listed(client, foreman, draft["id"])] == [first["id"], second["id"]]


def test_a_file_still_being_scanned_cannot_be_downloaded(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])

    response = download(client, foreman, body["id"])

    error = assert_error(response, 423, "FORBIDDEN")
    assert error["details"]["virus_scan_status"] == "pending"
    assert error["message"] == "File is still being scanned; try again shortly"


def test_after_the_background_scan_a_clean_file_downloads_byte_for_byte(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    content = quote_pdf("x")
    body = uploaded(client, foreman, draft["id"], content)

    scan_all(unit, settings)

    assert listed(client, foreman, draft["id"])[0]["virus_scan_status"] == "clean"
    response = download(client, foreman, body["id"])
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"] == PDF
    assert response.headers["content-disposition"] == 'attachment; filename="quote.pdf"'
    assert int(response.headers["content-length"]) == len(content)


@pytest.mark.parametrize(
    ("uploaded_name", "disposition"),
    [
        pytest.param("../../../../etc/passwd.pdf", 'attachment; filename="passwd.pdf"', id="path-climbing"),
        pytest.param("C:\\quotes\\q.pdf", 'attachment; filename="q.pdf"', id="windows-path"),
        pytest.param(
            "devis été.pdf",
            "attachment; filename=\"devis ete.pdf\"; filename*=UTF-8''devis%20%C3%A9t%C3%A9.pdf",
            id="non-ascii",
        ),
    ],
)
def test_a_download_is_named_by_the_uploaded_base_name_only(
    client: TestClient,
    foreman: Headers,
    draft: dict[str, Any],
    unit: UnitOfWork,
    settings: Settings,
    uploaded_name: str,
    disposition: str,
) -> None:
    body = uploaded(client, foreman, draft["id"], quote_pdf("x"), filename=uploaded_name)
    scan_all(unit, settings)

    response = download(client, foreman, body["id"])

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == disposition


def test_a_clean_text_file_downloads_with_its_type(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    content = b"item,quantity\nnails,100\n"
    body = uploaded(client, foreman, draft["id"], content, filename="take-off.csv", content_type="text/csv")
    scan_all(unit, settings)

    response = download(client, foreman, body["id"])

    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"].split(";")[0] == "text/csv"
    assert response.headers["content-disposition"] == 'attachment; filename="take-off.csv"'


def test_another_user_on_the_project_may_download_a_clean_file(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings, admin: Headers
) -> None:
    content, _ = unique_pdf()
    body = uploaded(client, foreman, draft["id"], content)
    scan_all(unit, settings)

    response = download(client, admin, body["id"])

    assert response.status_code == 200, response.text
    assert response.content == content


# --- what is refused on arrival ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "content_type"),
    [
        pytest.param(ELF, "quote.pdf", PDF, id="elf-declared-as-pdf"),
        pytest.param(EXE, "invoice.pdf", PDF, id="exe-declared-as-pdf"),
        pytest.param(a_zip(), "quote.pdf", PDF, id="zip-declared-as-pdf"),
        pytest.param(RANDOM_BINARY, "photo.jpg", "image/jpeg", id="random-binary"),
        pytest.param(ELF, "tool", "application/octet-stream", id="elf-as-octet-stream"),
    ],
)
def test_content_that_is_not_an_allowed_type_is_refused_with_400(
    client: TestClient,
    foreman: Headers,
    draft: dict[str, Any],
    settings: Settings,
    content: bytes,
    filename: str,
    content_type: str,
) -> None:
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(client, foreman, draft["id"], content, filename=filename, content_type=content_type)

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "file"
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(client, foreman, draft["id"]) == []


def test_an_empty_file_is_refused_with_400(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(client, foreman, draft["id"], b"", filename="empty.pdf")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "file"
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(client, foreman, draft["id"]) == []


@pytest.fixture
def small_limit_client(database: Settings) -> Iterator[TestClient]:
    """An app that takes files of at most 1024 bytes."""
    idl = dataclasses.replace(idl_of(database), max_upload_bytes=1024)
    app = create_app(database.with_api("idl", idl))
    with app.test_client() as test_client:
        yield test_client


def test_a_file_over_the_size_limit_is_refused_with_413(
    small_limit_client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(
        small_limit_client, foreman, draft["id"], b"a" * 1025, filename="big.txt", content_type="text/plain"
    )

    error = assert_error(response, 413, "VALIDATION_ERROR")
    assert "1024" in error["message"]
    assert error["details"]["field"] == "file"
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(small_limit_client, foreman, draft["id"]) == []


def test_a_file_larger_than_other_bodies_may_be_is_accepted(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    """Uploads have a body limit of their own, the upload limit, far above the 1 MiB of other bodies."""
    content = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)

    response = upload(client, foreman, draft["id"], content, filename="drawings.pdf")

    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == len(content)


def test_a_body_far_over_the_upload_limit_is_refused_before_it_is_read(
    small_limit_client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(small_limit_client, foreman, draft["id"], b"a" * (200 * 1024), filename="huge.txt")

    error = assert_error(response, 413, "VALIDATION_ERROR")
    assert error["details"]["field"] == "$"
    assert everything_under(idl_of(settings).upload_dir) == before


def test_a_file_of_exactly_the_size_limit_is_accepted(
    small_limit_client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    response = upload(
        small_limit_client, foreman, draft["id"], b"a" * 1024, filename="full.txt", content_type="text/plain"
    )

    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == 1024


def test_the_eicar_test_file_is_refused_on_arrival_and_nothing_is_stored(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings, admin: Headers
) -> None:
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(client, foreman, draft["id"], EICAR, filename="eicar.txt", content_type="text/plain")

    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert "virus" in error["message"].lower()
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(client, foreman, draft["id"]) == []


def test_the_eicar_string_inside_an_otherwise_harmless_file_is_found(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    before = everything_under(idl_of(settings).upload_dir)
    content = b"notes\n" * 20_000 + EICAR + b"\nmore notes\n"

    response = upload(client, foreman, draft["id"], content, filename="notes.txt", content_type="text/plain")

    assert_error(response, 422, "VALIDATION_ERROR")
    assert everything_under(idl_of(settings).upload_dir) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"json": {"file": "quote.pdf"}}, id="json"),
        pytest.param({"content": b"just text", "headers": {"Content-Type": "text/plain"}}, id="text"),
        pytest.param({"content": quote_pdf("x"), "headers": {"Content-Type": PDF}}, id="raw-pdf"),
        pytest.param({"content": quote_pdf("x")}, id="no-content-type"),
    ],
)
def test_a_body_that_is_not_multipart_answers_415(
    client: TestClient, foreman: Headers, draft: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    options = dict(kwargs)
    headers = {**foreman, **options.pop("headers", {})}

    response = client.post(f"{BASE}/purchase-orders/{draft['id']}/files", headers=headers, **options)

    assert_error(response, 415, "VALIDATION_ERROR")


def test_a_multipart_body_without_a_file_part_answers_400(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    response = client.post(
        f"{BASE}/purchase-orders/{draft['id']}/files",
        files={"attachment": ("quote.pdf", quote_pdf("x"), PDF)},
        headers=foreman,
    )

    assert_error(response, 400, "VALIDATION_ERROR")
    assert listed(client, foreman, draft["id"]) == []


@pytest.mark.parametrize(
    "filename",
    [
        "../../evil.pdf",
        "../../../../../../../../evil.pdf",
        "..\\..\\evil.pdf",
        "/etc/evil.pdf",
        "files/../../evil.pdf",
        "..",
    ],
)
def test_a_client_chosen_name_never_escapes_the_upload_directory(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings, filename: str
) -> None:
    root = idl_of(settings).upload_dir.resolve()

    response = upload(client, foreman, draft["id"], b"harmless notes\n", filename=filename, content_type="text/plain")

    assert response.status_code == 201, response.text
    stored_filename = response.json()["stored_filename"]
    assert "/" not in stored_filename
    assert "\\" not in stored_filename
    assert ".." not in stored_filename
    assert STORED_NAME.match(stored_filename)
    path = store_of(settings).path_of(stored_filename)
    assert path.resolve().parent == (root / "files")
    assert path.read_bytes() == b"harmless notes\n"
    escaped = [path for path in everything_under(root.parent) if "evil" in path.name and not path.is_relative_to(root)]
    assert escaped == []
    assert not Path("/evil.pdf").exists()
    assert not Path("/etc/evil.pdf").exists()


# --- background scanning and quarantine --------------------------------------------------------


def test_a_file_the_background_scan_flags_is_quarantined_and_locked(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    content, marker = unique_pdf()
    body = uploaded(client, foreman, draft["id"], content)
    store = store_of(settings)

    scan_all(unit, settings, FlaggingScanner(marker))

    assert listed(client, foreman, draft["id"])[0]["virus_scan_status"] == "infected"
    assert not store.path_of(body["stored_filename"]).exists()
    quarantined = store.quarantined_path(body["stored_filename"])
    assert quarantined.parent == idl_of(settings).upload_dir / "quarantine"
    assert quarantined.read_bytes() == content
    response = download(client, foreman, body["id"])
    error = assert_error(response, 423, "FORBIDDEN")
    assert error["details"]["virus_scan_status"] == "infected"
    assert error["message"] == "File quarantined due to virus"
    assert content not in response.content


def test_the_background_scan_clears_other_files_it_does_not_flag(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    bad, marker = unique_pdf()
    good, _ = unique_pdf()
    flagged = uploaded(client, foreman, draft["id"], bad)
    cleared = uploaded(client, foreman, draft["id"], good)

    scan_all(unit, settings, FlaggingScanner(marker))

    statuses = {file["id"]: file["virus_scan_status"] for file in listed(client, foreman, draft["id"])}
    assert statuses == {flagged["id"]: "infected", cleared["id"]: "clean"}
    assert download(client, foreman, cleared["id"]).content == good


def test_a_scan_that_fails_leaves_the_file_pending(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    class BrokenScanner:
        name = "broken"

        def scan(self, path: Path) -> Verdict:
            raise ScanError("scanner unreachable")

    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])

    scan_all(unit, settings, BrokenScanner())

    assert listed(client, foreman, draft["id"])[0]["virus_scan_status"] == "pending"
    assert store_of(settings).path_of(body["stored_filename"]).exists()
    assert_error(download(client, foreman, body["id"]), 423, "FORBIDDEN")


def test_a_file_that_cannot_be_scanned_waits_its_turn_and_does_not_hold_up_the_queue(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    stuck = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    store_of(settings).remove(stuck["stored_filename"])  # its bytes are gone: every scan fails

    scan_all(unit, settings)
    retried = unit.session.get(Attachment, stuck["id"])
    assert retried is not None
    assert retried.scan_attempts == 1
    assert retried.next_scan_at is not None

    later = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    scan_all(unit, settings)

    statuses = {item["id"]: item["virus_scan_status"] for item in listed(client, foreman, draft["id"])}
    assert statuses == {stuck["id"]: "pending", later["id"]: "clean"}
    unit.session.expire_all()
    not_yet_due = unit.session.get(Attachment, stuck["id"])
    assert not_yet_due is not None
    assert not_yet_due.scan_attempts == 1, "not retried before its back-off ends"


# --- who may do what ---------------------------------------------------------------------------


def test_a_user_without_access_to_the_project_cannot_download_a_file(
    client: TestClient,
    foreman: Headers,
    draft: dict[str, Any],
    unit: UnitOfWork,
    settings: Settings,
    make_user: MakeUser,
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    scan_all(unit, settings)
    _, outsider = make_user("pm", projects=("PRJ003",))

    response = download(client, outsider, body["id"])

    assert_error(response, 403, "FORBIDDEN")
    assert response.content.find(b"%PDF") == -1


def test_a_user_without_access_to_the_project_cannot_list_or_attach_files(
    client: TestClient, foreman: Headers, draft: dict[str, Any], make_user: MakeUser
) -> None:
    _, outsider = make_user("pm", projects=("PRJ003",))

    listing = client.get(f"{BASE}/purchase-orders/{draft['id']}/files", headers=outsider)
    attaching = upload(client, outsider, draft["id"], b"notes\n", filename="n.txt", content_type="text/plain")

    assert_error(listing, 404, "NOT_FOUND")
    assert_error(attaching, 404, "NOT_FOUND")
    assert listed(client, foreman, draft["id"]) == []


def test_an_unknown_file_answers_404(client: TestClient, foreman: Headers) -> None:
    assert_error(download(client, foreman, 999_999_999), 404, "NOT_FOUND")
    assert_error(client.delete(f"{BASE}/files/999999999", headers=foreman), 404, "NOT_FOUND")


def test_files_of_an_unknown_po_answer_404(client: TestClient, foreman: Headers) -> None:
    assert_error(client.get(f"{BASE}/purchase-orders/999999999/files", headers=foreman), 404, "NOT_FOUND")
    response = upload(client, foreman, 999_999_999, b"notes\n", filename="n.txt", content_type="text/plain")
    assert_error(response, 404, "NOT_FOUND")


def test_a_file_of_a_soft_deleted_po_answers_404(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    scan_all(unit, settings)
    assert client.delete(f"{BASE}/purchase-orders/{draft['id']}", headers=foreman).status_code == 204

    assert_error(download(client, foreman, body["id"]), 404, "NOT_FOUND")
    assert_error(client.get(f"{BASE}/purchase-orders/{draft['id']}/files", headers=foreman), 404, "NOT_FOUND")


def test_files_may_be_attached_while_the_po_is_submitted(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    submitted = client.patch(f"{BASE}/purchase-orders/{draft['id']}/submit", headers=foreman)
    assert submitted.status_code == 200, submitted.text

    response = upload(client, foreman, draft["id"], b"delivery note\n", filename="note.txt", content_type="text/plain")

    assert response.status_code == 201, response.text


def _move_to(client: TestClient, order_id: int, status: str, foreman: Headers, admin: Headers) -> None:
    if status == "cancelled":
        response = client.patch(f"{BASE}/purchase-orders/{order_id}/cancel", headers=foreman)
        assert response.status_code == 200, response.text
        return
    response = client.patch(f"{BASE}/purchase-orders/{order_id}/submit", headers=foreman)
    assert response.status_code == 200, response.text
    if status == "approved":
        response = client.patch(f"{BASE}/purchase-orders/{order_id}/approve", headers=admin, json={})
    else:
        response = client.patch(f"{BASE}/purchase-orders/{order_id}/reject", headers=admin, json={"reason": "No"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


@pytest.mark.parametrize("status", ["approved", "rejected", "cancelled"])
def test_files_cannot_be_attached_to_a_po_past_submission(
    client: TestClient,
    foreman: Headers,
    admin: Headers,
    draft: dict[str, Any],
    settings: Settings,
    status: str,
) -> None:
    _move_to(client, draft["id"], status, foreman, admin)
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(client, foreman, draft["id"], b"late quote\n", filename="late.txt", content_type="text/plain")

    error = assert_error(response, 403, "FORBIDDEN")
    assert error["details"]["status"] == status
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(client, foreman, draft["id"]) == []


def test_uploading_needs_the_po_create_permission(
    client: TestClient, draft: dict[str, Any], make_user: MakeUser, foreman: Headers, settings: Settings
) -> None:
    _, approver_only = make_user("super", permissions=["po:submit", "po:approve"])
    before = everything_under(idl_of(settings).upload_dir)

    response = upload(client, approver_only, draft["id"], b"notes\n", filename="n.txt", content_type="text/plain")

    assert_error(response, 403, "FORBIDDEN")
    assert everything_under(idl_of(settings).upload_dir) == before
    assert listed(client, foreman, draft["id"]) == []


def test_the_uploader_may_delete_a_file_and_it_is_gone_from_disk_and_listing(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    path = store_of(settings).path_of(body["stored_filename"])
    assert path.exists()

    response = client.delete(f"{BASE}/files/{body['id']}", headers=foreman)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert not path.exists()
    assert listed(client, foreman, draft["id"]) == []
    assert_error(download(client, foreman, body["id"]), 404, "NOT_FOUND")
    assert_error(client.delete(f"{BASE}/files/{body['id']}", headers=foreman), 404, "NOT_FOUND")


def test_a_deleted_files_id_is_not_given_to_a_later_upload(
    client: TestClient, foreman: Headers, draft: dict[str, Any], admin: Headers
) -> None:
    """Its download keeps answering 404, and its audit entries stay its own (SQLite reuses a freed max rowid)."""
    deleted = uploaded(
        client, foreman, draft["id"], b"first draft of the note\n", filename="a.txt", content_type="text/plain"
    )
    assert client.delete(f"{BASE}/files/{deleted['id']}", headers=foreman).status_code == 204

    later = uploaded(client, foreman, draft["id"], b"second note\n", filename="b.txt", content_type="text/plain")

    assert later["id"] != deleted["id"]
    assert_error(download(client, foreman, deleted["id"]), 404, "NOT_FOUND")
    entries = client.get(
        f"{BASE}/audit-logs", params={"entity_type": "file", "entity_id": str(deleted["id"])}, headers=admin
    ).json()["data"]
    assert {entry["new_values"]["original_filename"] for entry in entries if entry["new_values"]} == {"a.txt"}


def test_the_po_creator_may_delete_a_file_someone_else_uploaded(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings, make_user: MakeUser
) -> None:
    _, colleague = make_user("super")
    body = uploaded(client, colleague, draft["id"], b"colleague's notes\n", filename="c.txt", content_type="text/plain")
    path = store_of(settings).path_of(body["stored_filename"])

    response = client.delete(f"{BASE}/files/{body['id']}", headers=foreman)

    assert response.status_code == 204, response.text
    assert not path.exists()
    assert listed(client, foreman, draft["id"]) == []


def test_someone_else_on_the_project_may_not_delete_a_file(
    client: TestClient, foreman: Headers, draft: dict[str, Any], settings: Settings, make_user: MakeUser
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    _, colleague = make_user("foreman")

    response = client.delete(f"{BASE}/files/{body['id']}", headers=colleague)

    assert_error(response, 403, "FORBIDDEN")
    assert store_of(settings).path_of(body["stored_filename"]).exists()
    assert [file["id"] for file in listed(client, foreman, draft["id"])] == [body["id"]]


def test_a_quarantined_file_can_be_deleted_from_quarantine(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    content, marker = unique_pdf()
    body = uploaded(client, foreman, draft["id"], content)
    scan_all(unit, settings, FlaggingScanner(marker))
    quarantined = store_of(settings).quarantined_path(body["stored_filename"])
    assert quarantined.exists()

    response = client.delete(f"{BASE}/files/{body['id']}", headers=foreman)

    assert response.status_code == 204, response.text
    assert not quarantined.exists()


# --- audit trail -------------------------------------------------------------------------------


def test_uploads_and_deletions_are_written_to_the_audit_trail(
    client: TestClient, foreman: Headers, draft: dict[str, Any], admin: Headers
) -> None:
    content, _ = unique_pdf()
    body = uploaded(client, foreman, draft["id"], content)
    assert client.delete(f"{BASE}/files/{body['id']}", headers=foreman).status_code == 204

    response = client.get(
        f"{BASE}/audit-logs", params={"entity_type": "file", "entity_id": str(body["id"])}, headers=admin
    )

    assert response.status_code == 200, response.text
    entries = [
        entry
        for entry in response.json()["data"]
        if body["stored_filename"] in ((entry["old_values"] or {}) | (entry["new_values"] or {})).values()
    ]
    assert [entry["action"] for entry in entries] == ["file_deleted", "file_uploaded"]
    assert all(entry["entity_type"] == "file" and entry["entity_id"] == str(body["id"]) for entry in entries)
    deleted, created = entries
    assert created["user"]["name"] == "Frank Foreman"
    assert created["old_values"] is None
    assert created["new_values"]["original_filename"] == "quote.pdf"
    assert created["new_values"]["stored_filename"] == body["stored_filename"]
    assert created["new_values"]["file_size"] == len(content)
    assert created["new_values"]["purchase_order_id"] == draft["id"]
    assert deleted["old_values"]["stored_filename"] == body["stored_filename"]
    assert deleted["new_values"] is None


def test_a_refused_upload_is_not_audited(
    client: TestClient, foreman: Headers, draft: dict[str, Any], admin: Headers
) -> None:
    before = client.get(f"{BASE}/audit-logs", params={"action": "file_uploaded", "limit": 1}, headers=admin).json()

    assert upload(client, foreman, draft["id"], ELF).status_code == 400

    after = client.get(f"{BASE}/audit-logs", params={"action": "file_uploaded", "limit": 1}, headers=admin).json()
    assert after["pagination"]["total"] == before["pagination"]["total"]


# --- the temporary files of the upload itself --------------------------------------------------


def test_an_upload_leaves_no_temporary_file_unclosed(
    client: TestClient, foreman: Headers, draft: dict[str, Any]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        response = upload(client, foreman, draft["id"], b"notes\n", filename="n.txt", content_type="text/plain")
        refused = upload(client, foreman, draft["id"], ELF)
        gc.collect()

    assert response.status_code == 201, response.text
    assert refused.status_code == 400, refused.text
    leaks = [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)]
    assert leaks == []


def test_a_clean_file_whose_bytes_are_gone_answers_404_not_500(
    client: TestClient, foreman: Headers, draft: dict[str, Any], unit: UnitOfWork, settings: Settings
) -> None:
    body = uploaded(client, foreman, draft["id"], unique_pdf()[0])
    scan_all(unit, settings)
    store_of(settings).remove(body["stored_filename"])

    error = assert_error(download(client, foreman, body["id"]), 404, "NOT_FOUND")

    assert "no longer available" in error["message"]
