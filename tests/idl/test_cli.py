"""`partner-gateway idl …`, `worker --once` and `demo-credentials`, run through `core.cli.main`.

Imports go to a database of their own (migrated, empty), so the reference data the other
tests share stays the demo's; user creation, the worker and the demo credentials act on
the session's test database, where the API under test can see their effects.
"""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.cli import main, migrate
from core.config import Settings
from core.database import Database
from core.files import FileStore
from core.files.scanning import EICAR
from core.jobs import JobContext
from core.unit_of_work import UnitOfWork
from handlers.order_accept.api import API as ORDER_ACCEPT
from models.idl.attachments import scan_pending
from models.idl.tables import Attachment, CostCode, Project, TaxCode, User, Vendor
from tests.idl.conftest import BASE, Headers, assert_error, idl_of

LoginAs = Callable[[str], Headers]
CreateOrder = Callable[..., dict[str, Any]]
PROJECTS_HEADER = "id,job_number,name,status,budget,start_date,end_date\n"
COST_CODES_HEADER = "project_id,id,code,description,category,budget,active\n"


def point_cli_at(monkeypatch: pytest.MonkeyPatch, settings: Settings, instance: Path) -> None:
    """The environment `Settings.from_env` reads, naming `settings`' database, keys and upload directory."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("INSTANCE_DIR", str(instance))
    monkeypatch.setenv("IDL_JWT_SECRET", str(idl_of(settings).jwt.secret))
    monkeypatch.setenv("ORDER_ACCEPT_JWT_SECRET", str(ORDER_ACCEPT.config(settings).jwt.secret))
    monkeypatch.setenv("RATE_LIMITS_DISABLED", "1")
    monkeypatch.setenv("IDL_UPLOAD_DIR", str(idl_of(settings).upload_dir))
    monkeypatch.delenv("CLAMD_ADDRESS", raising=False)
    monkeypatch.delenv("IDL_NEW_USER_PASSWORD", raising=False)


@pytest.fixture(scope="module")
def import_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An empty, migrated database of its own for the import tests."""
    path = tmp_path_factory.mktemp("imports") / "imports.db"
    fresh = dataclasses.replace(settings, database_url=f"sqlite:///{path}")
    migrate(fresh)
    return fresh


@pytest.fixture
def cli_for_imports(monkeypatch: pytest.MonkeyPatch, import_settings: Settings, tmp_path: Path) -> Settings:
    point_cli_at(monkeypatch, import_settings, tmp_path)
    return import_settings


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, database: Settings, tmp_path: Path) -> Settings:
    point_cli_at(monkeypatch, database, tmp_path)
    return database


@pytest.fixture
def read(import_settings: Settings) -> Iterator[Callable[[type[Any]], dict[Any, Any]]]:
    """Read every row of a reference table of the import database, keyed by primary key."""
    database = Database(import_settings.database_url)

    def rows(model: type[Any]) -> dict[Any, Any]:
        with UnitOfWork(database, import_settings) as unit:
            items = unit.session.scalars(select(model)).all()
            unit.session.expunge_all()
        if model is CostCode:
            return {(item.project_id, item.id): item for item in items}
        if model is TaxCode:
            return {item.code: item for item in items}
        return {item.id: item for item in items}

    yield rows
    database.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, rows: Any) -> Path:
    return write(path, json.dumps(rows))


def run_failing(*argv: str) -> str:
    """Run a command that must fail; the message it fails with."""
    with pytest.raises((SystemExit, ValueError)) as raised:
        main(list(argv))
    if isinstance(raised.value, SystemExit):
        assert raised.value.code not in (0, None)
    return str(raised.value)


# --- imports ---------------------------------------------------------------------------------


class TestImport:
    def test_projects_are_imported_from_csv(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        first, second = unique("P"), unique("P")
        source = write(
            tmp_path / "projects.csv",
            PROJECTS_HEADER
            + f"{first},{unique('J')},Bridge Deck Repair,active,125000.50,2025-01-01,2025-12-31\n"
            + f"{second},{unique('J')},Old Depot,inactive,9000,,\n",
        )

        assert main(["idl", "import", "projects", str(source)]) == 0

        projects = read(Project)
        assert projects[first].name == "Bridge Deck Repair"
        assert projects[first].status == "active"
        assert projects[first].budget == Decimal("125000.50")
        assert str(projects[first].start_date) == "2025-01-01"
        assert projects[second].status == "inactive"
        assert projects[second].start_date is None
        assert projects[second].end_date is None

    def test_projects_are_imported_from_json(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        project = unique("P")
        row = {
            "id": project,
            "job_number": unique("J"),
            "name": "Harbor Pier",
            "status": "active",
            "budget": 750000,
            "start_date": "2025-05-01",
            "end_date": None,
        }
        source = write_json(tmp_path / "projects.json", [row])

        assert main(["idl", "import", "projects", str(source)]) == 0

        imported = read(Project)[project]
        assert imported.name == "Harbor Pier"
        assert imported.budget == Decimal("750000.00")
        assert imported.end_date is None

    def test_an_import_updates_rows_with_a_known_id_and_adds_the_others(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        kept, added, job = unique("P"), unique("P"), unique("J")
        write(tmp_path / "first.csv", PROJECTS_HEADER + f"{kept},{job},First Name,active,1000,,\n")
        main(["idl", "import", "projects", str(tmp_path / "first.csv")])
        count_before = len(read(Project))

        write(
            tmp_path / "second.csv",
            PROJECTS_HEADER + f"{kept},{job},Renamed,inactive,2000,,\n" + f"{added},{unique('J')},Added,active,3,,\n",
        )
        assert main(["idl", "import", "projects", str(tmp_path / "second.csv")]) == 0

        projects = read(Project)
        assert len(projects) == count_before + 1
        assert projects[kept].name == "Renamed"
        assert projects[kept].status == "inactive"
        assert projects[kept].budget == Decimal("2000.00")
        assert projects[added].name == "Added"

    def test_reimporting_a_project_keeps_its_po_numbering(
        self,
        cli_for_imports: Settings,
        import_settings: Settings,
        tmp_path: Path,
        read: Callable[[type[Any]], dict[Any, Any]],
    ) -> None:
        project, job = unique("P"), unique("J")
        source = write(tmp_path / "p.csv", PROJECTS_HEADER + f"{project},{job},Numbered,active,1000,,\n")
        main(["idl", "import", "projects", str(source)])
        database = Database(import_settings.database_url)
        try:
            with UnitOfWork(database, import_settings) as unit:
                stored = unit.session.get(Project, project)
                assert stored is not None
                stored.last_po_sequence = 7
                unit.commit()
        finally:
            database.dispose()

        main(["idl", "import", "projects", str(source)])

        assert read(Project)[project].last_po_sequence == 7

    def test_cost_codes_are_imported_and_upserted_per_project(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        first, second = unique("P"), unique("P")
        write(
            tmp_path / "projects.csv",
            PROJECTS_HEADER + f"{first},{unique('J')},One,active,1,,\n{second},{unique('J')},Two,active,1,,\n",
        )
        main(["idl", "import", "projects", str(tmp_path / "projects.csv")])
        codes = write(
            tmp_path / "cost_codes.csv",
            COST_CODES_HEADER
            + f"{first},CC-001,01-100,Site Preparation,Construction,150000.00,true\n"
            + f"{second},CC-001,02-200,Demolition,Construction,5000,false\n",
        )

        assert main(["idl", "import", "cost-codes", str(codes)]) == 0
        write(
            tmp_path / "update.json",
            json.dumps(
                [
                    {
                        "project_id": first,
                        "id": "CC-001",
                        "code": "01-100",
                        "description": "Site Prep (revised)",
                        "category": "Construction",
                        "budget": "175000",
                        "active": False,
                    }
                ]
            ),
        )
        assert main(["idl", "import", "cost-codes", str(tmp_path / "update.json")]) == 0

        imported = read(CostCode)
        assert imported[(first, "CC-001")].description == "Site Prep (revised)"
        assert imported[(first, "CC-001")].budget == Decimal("175000.00")
        assert imported[(first, "CC-001")].active is False
        assert imported[(second, "CC-001")].code == "02-200"
        assert imported[(second, "CC-001")].active is False

    def test_vendors_are_imported_from_json_and_csv(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        from_json, from_csv = unique("V"), unique("V")
        write_json(
            tmp_path / "vendors.json",
            [
                {
                    "id": from_json,
                    "name": "Granite Supply",
                    "email": None,
                    "phone": "555-0100",
                    "address": None,
                    "payment_terms": None,
                    "active": True,
                }
            ],
        )
        write(
            tmp_path / "vendors.csv",
            "id,name,email,phone,address,payment_terms,active\n"
            + f'{from_csv},"Nails, Screws & Co.",sales@nails.example,,"1 Iron Rd, Forge",Net 15,false\n',
        )

        assert main(["idl", "import", "vendors", str(tmp_path / "vendors.json")]) == 0
        assert main(["idl", "import", "vendors", str(tmp_path / "vendors.csv")]) == 0

        vendors = read(Vendor)
        assert vendors[from_json].name == "Granite Supply"
        assert vendors[from_json].email is None
        assert vendors[from_json].active is True
        assert vendors[from_csv].name == "Nails, Screws & Co."
        assert vendors[from_csv].email == "sales@nails.example"
        assert vendors[from_csv].phone is None
        assert vendors[from_csv].address == "1 Iron Rd, Forge"
        assert vendors[from_csv].active is False

    def test_tax_codes_are_imported_and_upserted_by_code(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        code = unique("T")[:8]
        write(tmp_path / "tax.csv", f"code,description,rate\n{code},Test tax,7.5\n")
        assert main(["idl", "import", "tax-codes", str(tmp_path / "tax.csv")]) == 0
        write_json(tmp_path / "tax.json", [{"code": code, "description": "Test tax, revised", "rate": "8.25"}])

        assert main(["idl", "import", "tax-codes", str(tmp_path / "tax.json")]) == 0

        tax = read(TaxCode)[code]
        assert tax.description == "Test tax, revised"
        assert tax.rate == Decimal("8.25")

    def test_the_command_reports_how_many_rows_it_imported(
        self, cli_for_imports: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        rows = "".join(f"{unique('V')},Vendor {number},,,,,true\n" for number in range(3))
        source = write(tmp_path / "v.csv", "id,name,email,phone,address,payment_terms,active\n" + rows)

        main(["idl", "import", "vendors", str(source)])

        assert "imported 3 vendors" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("bad_row", "field"),
        [
            pytest.param("{id},{job},Broken,active,lots,,", "budget", id="budget-not-an-amount"),
            pytest.param("{id},{job},,active,10,,", "name", id="name-missing"),
            pytest.param("{id},{job},Broken,paused,10,,", "status", id="unknown-status"),
            pytest.param("{id},{job},Broken,active,10,2025-02-30,", "start_date", id="impossible-date"),
        ],
    )
    def test_a_bad_row_fails_naming_file_and_row_and_imports_nothing(
        self,
        cli_for_imports: Settings,
        tmp_path: Path,
        read: Callable[[type[Any]], dict[Any, Any]],
        bad_row: str,
        field: str,
    ) -> None:
        good, bad = unique("P"), unique("P")
        source = write(
            tmp_path / "projects.csv",
            PROJECTS_HEADER
            + f"{good},{unique('J')},Good,active,10,,\n"
            + bad_row.format(id=bad, job=unique("J"))
            + "\n",
        )
        before = set(read(Project))

        message = run_failing("idl", "import", "projects", str(source))

        assert str(source) in message
        assert "row 2" in message
        assert field in message
        assert set(read(Project)) == before
        assert good not in read(Project)

    def test_a_bad_row_of_a_json_file_fails_naming_file_and_row(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        good = unique("V")
        source = write_json(
            tmp_path / "vendors.json",
            [{"id": good, "name": "Fine", "active": True}, {"id": unique("V"), "name": "Odd", "active": "sometimes"}],
        )

        message = run_failing("idl", "import", "vendors", str(source))

        assert str(source) in message
        assert "row 2" in message
        assert "active" in message
        assert good not in read(Vendor)

    def test_a_cost_code_of_an_unknown_project_fails_naming_file_and_row_and_imports_nothing(
        self, cli_for_imports: Settings, tmp_path: Path, read: Callable[[type[Any]], dict[Any, Any]]
    ) -> None:
        project, missing = unique("P"), unique("NOPE")
        write(tmp_path / "p.csv", PROJECTS_HEADER + f"{project},{unique('J')},Real,active,1,,\n")
        main(["idl", "import", "projects", str(tmp_path / "p.csv")])
        source = write(
            tmp_path / "codes.csv",
            COST_CODES_HEADER
            + f"{project},CC-100,01-100,Fine,Construction,1,true\n"
            + f"{missing},CC-101,01-101,Orphan,Construction,1,true\n",
        )

        message = run_failing("idl", "import", "cost-codes", str(source))

        assert str(source) in message
        assert missing in message
        assert "row 2" in message
        assert (project, "CC-100") not in read(CostCode)

    def test_a_json_file_that_is_not_a_list_of_objects_fails_naming_the_file(
        self, cli_for_imports: Settings, tmp_path: Path
    ) -> None:
        source = write_json(tmp_path / "vendors.json", {"id": "VEN999", "name": "Not in a list"})

        message = run_failing("idl", "import", "vendors", str(source))

        assert str(source) in message

    def test_an_unknown_kind_is_refused_by_the_command_line(self, cli_for_imports: Settings, tmp_path: Path) -> None:
        source = write(tmp_path / "x.csv", "id\n1\n")

        with pytest.raises(SystemExit) as raised:
            main(["idl", "import", "customers", str(source)])

        assert raised.value.code == 2


# --- create-user -----------------------------------------------------------------------------


class TestCreateUser:
    def test_a_created_user_can_log_in_through_the_api(
        self,
        cli: Settings,
        monkeypatch: pytest.MonkeyPatch,
        client: TestClient,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        email = f"cli-{uuid.uuid4().hex[:8]}@idl.test"
        monkeypatch.setenv("IDL_NEW_USER_PASSWORD", "a-long-cli-password")

        status = main(
            [
                "idl",
                "create-user",
                "--email",
                email,
                "--name",
                "Carla Cli",
                "--role",
                "super",
                "--project",
                "PRJ001",
                "--project",
                "PRJ003",
                "--limit",
                "12345.67",
            ]
        )

        assert status == 0
        assert "created user" in capsys.readouterr().err
        response = client.post(f"{BASE}/auth/login", json={"email": email, "password": "a-long-cli-password"})
        assert response.status_code == 200, response.text
        user = response.json()["user"]
        assert user["name"] == "Carla Cli"
        assert user["role"] == "super"
        assert user["project_ids"] == ["PRJ001", "PRJ003"]
        assert user["authorization_limit"] == 12345.67
        assert user["permissions"] == ["po:create", "po:submit", "po:approve"]
        wrong = client.post(f"{BASE}/auth/login", json={"email": email, "password": "not-the-password"})
        assert_error(wrong, 401, "UNAUTHORIZED")

    def test_a_user_gets_the_roles_defaults(
        self, cli: Settings, monkeypatch: pytest.MonkeyPatch, client: TestClient
    ) -> None:
        email = f"cli-{uuid.uuid4().hex[:8]}@idl.test"
        monkeypatch.setenv("IDL_NEW_USER_PASSWORD", "another-long-password")

        main(["idl", "create-user", "--email", email, "--name", "Fred Cli", "--role", "foreman"])

        user = client.post(f"{BASE}/auth/login", json={"email": email, "password": "another-long-password"}).json()[
            "user"
        ]
        assert user["authorization_limit"] == 5000.0
        assert user["permissions"] == ["po:create", "po:submit"]
        assert user["project_ids"] == []

    def test_a_short_password_is_refused_and_no_user_is_created(
        self, cli: Settings, monkeypatch: pytest.MonkeyPatch, unit: UnitOfWork
    ) -> None:
        email = f"cli-{uuid.uuid4().hex[:8]}@idl.test"
        monkeypatch.setenv("IDL_NEW_USER_PASSWORD", "short")

        message = run_failing("idl", "create-user", "--email", email, "--name", "Shorty", "--role", "pm")

        assert "12" in message
        assert unit.session.scalar(select(User).where(User.email == email)) is None

    def test_an_email_already_in_use_is_refused(self, cli: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("IDL_NEW_USER_PASSWORD", "a-long-cli-password")

        with pytest.raises(Exception) as raised:  # noqa: PT011 - any failure will do, as long as it says why
            main(["idl", "create-user", "--email", "pm@idl.example", "--name", "Copy", "--role", "pm"])

        assert "pm@idl.example" in f"{raised.value} {getattr(raised.value, 'detail', '')}"

    def test_an_unknown_role_is_refused_by_the_command_line(
        self, cli: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("IDL_NEW_USER_PASSWORD", "a-long-cli-password")

        with pytest.raises(SystemExit) as raised:
            main(["idl", "create-user", "--email", "x@idl.test", "--name", "X", "--role", "boss"])

        assert raised.value.code == 2


# --- worker ----------------------------------------------------------------------------------


def _drain(unit: UnitOfWork, settings: Settings) -> None:
    """Decide every file already pending, so the files of the test are the only ones queued."""
    unit.commit()
    scan_pending(JobContext(unit.database, settings), idl_of(settings), batch=1_000_000)


def _files_of(client: TestClient, headers: Headers, order_id: int) -> dict[int, str]:
    response = client.get(f"{BASE}/purchase-orders/{order_id}/files", headers=headers)
    assert response.status_code == 200, response.text
    return {file["id"]: file["virus_scan_status"] for file in response.json()["data"]}


class TestWorker:
    def test_worker_once_scans_pending_files(
        self,
        cli: Settings,
        client: TestClient,
        login_as: LoginAs,
        create_order: CreateOrder,
        unit: UnitOfWork,
    ) -> None:
        _drain(unit, cli)
        foreman = login_as("foreman")
        order = create_order(foreman)
        content = b"delivery schedule\n"
        uploaded = client.post(
            f"{BASE}/purchase-orders/{order['id']}/files",
            files={"file": ("schedule.txt", content, "text/plain")},
            headers=foreman,
        ).json()
        assert _files_of(client, foreman, order["id"]) == {uploaded["id"]: "pending"}

        assert main(["worker", "--once"]) == 0

        assert _files_of(client, foreman, order["id"]) == {uploaded["id"]: "clean"}
        download = client.get(f"{BASE}/files/{uploaded['id']}/download", headers=foreman)
        assert download.status_code == 200, download.text
        assert download.content == content

    def test_worker_once_quarantines_an_infected_file(
        self,
        cli: Settings,
        client: TestClient,
        login_as: LoginAs,
        create_order: CreateOrder,
        unit: UnitOfWork,
    ) -> None:
        _drain(unit, cli)
        foreman = login_as("foreman")
        order = create_order(foreman)
        frank = client.get(f"{BASE}/users/me", headers=foreman).json()
        store = FileStore(idl_of(cli).upload_dir)
        stored = store.save(io.BytesIO(b"looks harmless\n" + EICAR), "sneaky.txt", 1_000_000)
        attachment = Attachment(
            purchase_order_id=order["id"],
            original_filename="sneaky.txt",
            stored_filename=stored.stored_filename,
            file_size=stored.size,
            mime_type="text/plain",
            virus_scan_status="pending",
            uploaded_by_id=frank["id"],
        )
        unit.session.add(attachment)
        unit.commit()

        assert main(["worker", "--once"]) == 0

        assert _files_of(client, foreman, order["id"]) == {attachment.id: "infected"}
        assert not store.path_of(stored.stored_filename).exists()
        assert store.quarantined_path(stored.stored_filename).exists()
        locked = client.get(f"{BASE}/files/{attachment.id}/download", headers=foreman)
        assert assert_error(locked, 423, "FORBIDDEN")["details"]["virus_scan_status"] == "infected"

    def test_worker_once_processes_everything_pending_before_it_exits(
        self,
        cli: Settings,
        client: TestClient,
        login_as: LoginAs,
        create_order: CreateOrder,
        unit: UnitOfWork,
    ) -> None:
        _drain(unit, cli)
        foreman = login_as("foreman")
        order = create_order(foreman)
        for number in range(25):
            response = client.post(
                f"{BASE}/purchase-orders/{order['id']}/files",
                files={"file": (f"note-{number}.txt", f"note {number}\n".encode(), "text/plain")},
                headers=foreman,
            )
            assert response.status_code == 201, response.text

        assert main(["worker", "--once"]) == 0

        statuses = _files_of(client, foreman, order["id"])
        assert len(statuses) == 25
        assert set(statuses.values()) == {"clean"}


# --- demo-credentials ------------------------------------------------------------------------


class TestDemoCredentials:
    def test_each_idl_role_has_credentials_whose_authorization_works(
        self, cli: Settings, client: TestClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["demo-credentials"]) == 0

        idl = json.loads(capsys.readouterr().out)["idl"]
        assert set(idl) == {"foreman", "super", "pm", "admin"}
        for role, credentials in idl.items():
            assert credentials["email"] == f"{role}@idl.example"
            assert credentials["authorization"].startswith("Bearer ey")
            response = client.get(f"{BASE}/users/me", headers={"Authorization": credentials["authorization"]})
            assert response.status_code == 200, response.text
            assert response.json()["email"] == credentials["email"]
            assert response.json()["role"] == role

    def test_the_printed_passwords_log_in(
        self, cli: Settings, client: TestClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["demo-credentials"])
        idl = json.loads(capsys.readouterr().out)["idl"]

        for role, credentials in idl.items():
            response = client.post(
                f"{BASE}/auth/login", json={"email": credentials["email"], "password": credentials["password"]}
            )
            assert response.status_code == 200, (role, response.text)
            assert response.json()["user"]["role"] == role

    def test_the_inactive_demo_user_has_no_credentials(self, cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
        main(["demo-credentials"])

        output = capsys.readouterr().out
        assert "retired@idl.example" not in output
