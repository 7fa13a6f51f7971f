"""An independent SCIM conformance tool against Mihwar: scim2-tester reads the discovery
documents, then creates, reads, searches, replaces, patches (add, remove, replace, on every
attribute the schemas list) and deletes users and groups, and checks each answer against
RFC 7643 and RFC 7644. Every one of its checks must pass; on SQLite and PostgreSQL."""

from __future__ import annotations

from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
from starlette.testclient import TestClient

from tests.mihwar.conftest import SCIM, ScimCaller


def test_scim2_tester_finds_nothing_to_fault(client: TestClient, scim: ScimCaller) -> None:
    authorization = {"Authorization": f"Bearer {scim.secret}"}
    with TestClient(client.app, base_url=f"http://testserver{SCIM}", headers=authorization) as http:
        results = check_server(SyncSCIMClient(http))

    faults = [f"{result.title}: {result.reason}" for result in results if result.status != Status.SUCCESS]
    assert faults == []
    assert len(results) >= 60  # discovery, and the create/read/search/replace/patch/delete of both types
