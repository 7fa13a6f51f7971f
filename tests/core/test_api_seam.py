"""One object per API gives the core everything: a throwaway API plugs in from a temporary folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from starlette.testclient import TestClient

from core.api import Api, configure, registered
from core.cli import demo_credentials, main
from core.config import PROJECT_ROOT, Settings
from core.database import Database
from core.jobs import JobContext
from core.outbox import OutboxEvent
from core.worker import Worker
from tests.core.conftest import READER, WRITER


def test_the_tiny_api_is_served_from_its_folder(tiny_client: TestClient, tiny_folder: Path) -> None:
    created = tiny_client.post("/tiny/notes", json={"text": "hello"}, headers=WRITER)

    assert created.status_code == 201, created.text
    note = created.json()
    assert created.headers["location"] == f"/tiny/notes/{note['id']}"
    read = tiny_client.get(created.headers["location"], headers=READER)
    assert read.status_code == 200
    assert read.json() == {"id": note["id"], "text": "hello"}
    assert tiny_client.get("/tiny/openapi.json").json()["info"]["title"] == "Tiny API"


def test_its_errors_are_in_its_own_format(tiny_client: TestClient) -> None:
    missing = tiny_client.get("/tiny/notes/999999", headers=READER)
    invalid = tiny_client.post("/tiny/notes", json={"text": ""}, headers=WRITER)
    unknown = tiny_client.get("/tiny/nothing-here")

    assert missing.status_code == 404
    assert missing.json() == {"tiny": True, "status": 404, "detail": "Note 999999 was not found.", "errors": None}
    assert invalid.status_code == 400
    assert invalid.json()["errors"] == {"text": ["Must be at least 1 characters long."]}
    assert unknown.status_code == 404
    assert unknown.json()["tiny"] is True


def test_its_migration_made_its_table(tiny_settings: Settings) -> None:
    database = Database(tiny_settings.database_url)
    try:
        assert "tiny_notes" in inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def test_its_events_reach_its_handler_through_the_outbox(
    tiny_client: TestClient, tiny_settings: Settings, tiny: Api[Any]
) -> None:
    from tinyapi.api import RECEIVED

    created = tiny_client.post("/tiny/notes", json={"text": "tell someone"}, headers=WRITER).json()
    worker = Worker(configure(tiny_settings, [tiny]), [tiny])
    worker.run(once=True)

    assert [(event.type, event.payload) for event in RECEIVED][-1] == (
        "note.created",
        {"id": created["id"], "by": "notes:write"},
    )
    database = Database(tiny_settings.database_url)
    try:
        with database.sessions() as session:
            row = session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == RECEIVED[-1].id))
            assert row is not None
            assert row.dispatched_at is not None
            assert row.key == f"note:{created['id']}"
    finally:
        database.dispose()


def test_a_request_that_fails_leaves_no_event(tiny_client: TestClient, tiny_settings: Settings) -> None:
    database = Database(tiny_settings.database_url)
    try:
        with database.sessions() as session:
            before = len(session.scalars(select(OutboxEvent)).all())
        failed = tiny_client.post("/tiny/notes", json={"text": "fail after the event"}, headers=WRITER)
        with database.sessions() as session:
            after = len(session.scalars(select(OutboxEvent)).all())
    finally:
        database.dispose()

    assert failed.status_code == 500
    assert after == before


def test_its_jobs_run_in_the_worker(tiny_settings: Settings, tiny: Api[Any]) -> None:
    from tinyapi.api import TICKS

    worker = Worker(configure(tiny_settings, [tiny]), [tiny])
    names = [job.name for job in worker.jobs]
    before = len(TICKS)
    worker.run(once=True)

    assert names[:2] == ["outbox", "outbox-purge"]
    assert "tiny-tick" in names
    assert len(TICKS) == before + 1
    assert worker.jobs[names.index("tiny-tick")].run(JobContext(worker.database, tiny_settings)) == 0


def test_its_demo_credentials_and_settings_come_from_it(tiny_settings: Settings, tiny: Api[Any]) -> None:
    assert demo_credentials(tiny_settings, [tiny]) == {"tiny": {"reader": {"authorization": "Bearer reader-demo"}}}
    assert configure(tiny_settings, [tiny]).apis == {"tiny": None}


def test_the_command_line_takes_its_apis(
    tiny: Api[Any], tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSTANCE_DIR", str(tiny_settings.instance_dir))
    monkeypatch.setenv("SPEC_DIR", str(tiny_settings.spec_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["migrate"], apis=[tiny]) == 0
    assert main(["demo-credentials"], apis=[tiny]) == 0
    assert '"reader"' in capsys.readouterr().out


def _without_claim_names(line: str) -> str:
    """`scp` is also a standard JWT claim (the scopes of Entra ID's tokens), which the core
    reads by that name, quoted: that is not the SCP API."""
    return line.replace('"scp"', "").replace("`scp`", "")


def test_core_names_no_api() -> None:
    """Everything an API needs is in its own packages: core/ names none of them."""
    names = {api.name for api in registered()} | {api.prefix.strip("/").split("/")[0] for api in registered()}
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names)).replace("_", "[_-]"), re.IGNORECASE)
    offending = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT_ROOT / "core").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(_without_claim_names(line))
    ]
    assert offending == []


def test_the_mount_table_lists_each_api_once_under_prefixes_that_do_not_overlap() -> None:
    apis = registered()
    prefixes = [api.prefix for api in apis]

    assert len({api.name for api in apis}) == len(apis)
    for prefix in prefixes:
        assert not [other for other in prefixes if other != prefix and other.startswith(prefix + "/")]
    assert [api.name for api in apis] == ["order_accept", "idl", "mihwar", "cpras", "scp"]


def test_a_body_limit_for_an_operation_the_spec_lacks_is_refused_at_start(
    tiny_settings: Settings, tiny: Api[Any]
) -> None:
    from dataclasses import replace

    from core.factory import create_app

    misspelt = replace(tiny, body_limits=lambda _config: {"createNotes": 10})

    with pytest.raises(ValueError, match="createNotes"):
        create_app(tiny_settings, [misspelt])


def test_a_body_check_for_an_operation_the_spec_lacks_is_refused_at_start(
    tiny_settings: Settings, tiny: Api[Any]
) -> None:
    from dataclasses import replace

    from core.factory import create_app

    with pytest.raises(ValueError, match="createNotes"):
        create_app(tiny_settings, [replace(tiny, body_checks={"createNotes": lambda _body: None})])


def test_a_body_check_runs_before_the_schema(tiny_settings: Settings, tiny: Api[Any]) -> None:
    from dataclasses import replace

    from core.factory import create_app
    from core.problems import PayloadTooLarge

    def at_most_ten_characters(body: Any) -> None:
        if isinstance(body, dict) and len(str(body.get("text", ""))) > 10:
            raise PayloadTooLarge("Ten characters at most.")

    checked = replace(tiny, body_checks={"createNote": at_most_ten_characters})
    with create_app(tiny_settings, [checked]).test_client() as client:
        long_and_invalid = client.post("/tiny/notes", json={"text": "x" * 11, "unknown": 1}, headers=WRITER)
        short_and_invalid = client.post("/tiny/notes", json={"text": "x", "unknown": 1}, headers=WRITER)

    assert (long_and_invalid.status_code, long_and_invalid.json()["detail"]) == (413, "Ten characters at most.")
    assert short_and_invalid.status_code == 400


def test_an_api_may_serve_only_some_operations_of_its_spec(tiny_settings: Settings, tiny: Api[Any]) -> None:
    from dataclasses import replace

    from core.factory import create_app

    partial = replace(tiny, operations=frozenset({"getNote", "whoAmI"}))
    with create_app(tiny_settings, [partial]).test_client() as client:
        served = client.get("/tiny/openapi.json").json()
        not_yet = client.post("/tiny/notes", json={"text": "hello"}, headers=WRITER)
        whoami = client.get("/tiny/whoami", headers=READER)

    operations = {
        operation["operationId"]
        for item in served["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
    }
    assert operations == {"getNote", "whoAmI"}
    assert not_yet.status_code in (404, 405)
    assert not_yet.json()["tiny"] is True
    assert whoami.status_code == 200


def test_secrets_stay_out_of_the_settings_repr(tmp_path: Path) -> None:
    settings = Settings.from_env({"ORDER_ACCEPT_JWT_SECRET": "s3cret-value", "INSTANCE_DIR": str(tmp_path)})
    configured = configure(settings, registered())

    assert "s3cret-value" not in repr(configured)
