"""The P/O workflow: submit, approve, reject, cancel, close; who may, from which status, and what it leaves behind.

Every test runs on a project of its own, staffed by a cast made once per module:

* creator: a foreman (po:create, po:submit, limit 5,000) who creates the P/Os;
* approver: a super (every permission, limit 10,000), the one routing picks for these totals;
* bystander: another super (every permission, limit 20,000), on the project but never assigned;
* pm: a project manager (every permission, limit 100,000);
* viewer: a foreman on the project without any permission;
* admin: an admin on no project at all (an admin works on every project).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Accounts, Users
from models.idl.reference import import_rows
from models.idl.tables import Project, User, UserProject
from tests.idl.conftest import BASE, Headers, assert_error, idl_of, line, order_body

Json = dict[str, Any]
MakeUser = Callable[..., tuple[User, Headers]]

ORDERS = f"{BASE}/purchase-orders"
ALL = ["po:create", "po:submit", "po:approve"]
STATUSES = ("draft", "submitted", "approved", "rejected", "cancelled", "closed")
TARGETS = {"submit": "submitted", "approve": "approved", "reject": "rejected", "cancel": "cancelled", "close": "closed"}
BODIES: dict[str, Json | None] = {
    "submit": None,
    "approve": {"comments": "Matches the quote"},
    "reject": {"reason": "Over the cost code budget"},
    "cancel": {"reason": "Vendor can no longer supply"},
    "close": {"comments": "All materials received"},
}


def amount(value: Any) -> Decimal:
    return Decimal(str(value))


def import_project(idl_db: Database, settings: Settings, budget: str = "100000.00") -> str:
    """A new active project with active cost codes CC-001 and CC-002 (budget 10,000 each)."""
    suffix = uuid.uuid4().hex[:10].upper()
    project_id = f"W{suffix}"
    codes = [
        {
            "project_id": project_id,
            "id": code,
            "code": f"0{code[-1]}-100",
            "description": f"Cost code {code}",
            "category": "Construction",
            "budget": "10000.00",
            "active": True,
        }
        for code in ("CC-001", "CC-002")
    ]
    with UnitOfWork(idl_db, settings) as work:
        project = {"id": project_id, "job_number": f"W{suffix}", "name": f"Project {suffix}", "budget": budget}
        import_rows(work, "projects", [project])
        import_rows(work, "cost-codes", codes)
        work.commit()
    return project_id


def update_user(idl_db: Database, settings: Settings, user_id: int, **values: Any) -> None:
    with UnitOfWork(idl_db, settings) as work:
        user = work.session.get(User, user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)
        work.commit()


def deactivate_project(idl_db: Database, settings: Settings, project_id: str) -> None:
    with UnitOfWork(idl_db, settings) as work:
        project = work.session.get(Project, project_id)
        assert project is not None
        project.status = "inactive"
        work.commit()


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    role: str
    headers: Headers


CAST: dict[str, tuple[str, str, list[str]]] = {
    "creator": ("foreman", "5000.00", ["po:create", "po:submit"]),
    "approver": ("super", "10000.00", ALL),
    "bystander": ("super", "20000.00", ALL),
    "pm": ("pm", "100000.00", ALL),
    "viewer": ("foreman", "5000.00", []),
    "admin": ("admin", "1000000.00", ALL),
}


@pytest.fixture(scope="module")
def cast(idl_db: Database, database: Settings) -> dict[str, User]:
    users = {}
    with UnitOfWork(idl_db, database) as work:
        for part, (role, limit, permissions) in CAST.items():
            users[part] = Users(work).create(
                email=f"{part}-{uuid.uuid4().hex[:10]}@idl.test",
                name=f"{part.title()} {uuid.uuid4().hex[:4]}",
                role=role,
                password="a-long-test-password",
                authorization_limit=Decimal(limit),
                permissions=permissions,
            )
        work.commit()
    return users


@dataclass(frozen=True)
class Crew:
    """The cast on a project of this test's own, with a session each, and how they act."""

    client: TestClient
    project_id: str
    members: dict[str, Member]

    @property
    def creator(self) -> Member:
        return self.members["creator"]

    @property
    def approver(self) -> Member:
        return self.members["approver"]

    @property
    def bystander(self) -> Member:
        return self.members["bystander"]

    @property
    def pm(self) -> Member:
        return self.members["pm"]

    @property
    def admin(self) -> Member:
        return self.members["admin"]

    def body(self, *lines: Json, **fields: Any) -> Json:
        return order_body(*lines, **{"project_id": self.project_id, **fields})

    def create(self, by: str = "creator", body: Json | None = None) -> Json:
        response = self.client.post(ORDERS, json=body or self.body(), headers=self.members[by].headers)
        assert response.status_code == 201, response.text
        created: Json = response.json()
        return created

    def act(self, action: str, order_id: int, by: str, body: Json | None = None) -> Any:
        """PATCH the transition as `by`, with the given body or the action's usual one."""
        payload = BODIES[action] if body is None else body
        return self.client.patch(f"{ORDERS}/{order_id}/{action}", json=payload, headers=self.members[by].headers)

    def succeed(self, action: str, order_id: int, by: str, body: Json | None = None) -> Json:
        response = self.act(action, order_id, by, body)
        assert response.status_code == 200, response.text
        result: Json = response.json()
        return result

    def read(self, order_id: int, by: str = "admin") -> Json:
        response = self.client.get(f"{ORDERS}/{order_id}", headers=self.members[by].headers)
        assert response.status_code == 200, response.text
        order: Json = response.json()
        return order

    def order_in(self, status: str, body: Json | None = None) -> int:
        """A P/O of the creator's, brought to `status` the usual way."""
        order_id: int = self.create(body=body)["id"]
        if status == "draft":
            return order_id
        assert self.succeed("submit", order_id, "creator")["approver"]["id"] == self.approver.id
        if status in ("approved", "closed"):
            self.succeed("approve", order_id, "approver")
        if status == "closed":
            self.succeed("close", order_id, "pm")
        if status == "rejected":
            self.succeed("reject", order_id, "approver")
        if status == "cancelled":
            self.succeed("cancel", order_id, "creator")
        return order_id

    def audit(self, order_id: int, action: str | None = None) -> list[Json]:
        params: dict[str, str | int] = {"entity_type": "purchase_order", "entity_id": str(order_id), "limit": 100}
        if action:
            params["action"] = action
        response = self.client.get(f"{BASE}/audit-logs", params=params, headers=self.admin.headers)
        assert response.status_code == 200, response.text
        entries: list[Json] = response.json()["data"]
        return entries


@pytest.fixture
def crew(client: TestClient, idl_db: Database, database: Settings, cast: dict[str, User]) -> Crew:
    project_id = import_project(idl_db, database)
    members = {}
    with UnitOfWork(idl_db, database) as work:
        work.session.add_all(
            UserProject(user_id=user.id, project_id=project_id) for part, user in cast.items() if part != "admin"
        )
        work.commit()
    for part, user in cast.items():
        with UnitOfWork(idl_db, database) as work:
            account = work.session.get(User, user.id)
            assert account is not None
            tokens = Accounts(work, idl_of(database).jwt).issue_for(account)
            work.commit()
        members[part] = Member(user.id, user.name, user.role, {"Authorization": f"Bearer {tokens.access_token}"})
    return Crew(client, project_id, members)


# The transition table ------------------------------------------------------------------------


def row(*codes: int) -> dict[str, int]:
    return dict(zip(STATUSES, codes, strict=True))


NOBODY = row(403, 403, 403, 403, 403, 403)
TABLE: dict[tuple[str, str], dict[str, int]] = {
    ("submit", "creator"): row(200, 409, 409, 409, 409, 409),
    ("submit", "bystander"): row(200, 409, 409, 409, 409, 409),  # anyone on the project with po:submit
    ("submit", "admin"): row(200, 409, 409, 409, 409, 409),
    ("submit", "viewer"): NOBODY,
    ("approve", "approver"): row(403, 200, 409, 409, 409, 409),  # a draft has no assigned approver yet
    ("approve", "admin"): row(409, 200, 409, 409, 409, 409),
    ("approve", "bystander"): NOBODY,
    ("approve", "pm"): NOBODY,
    ("approve", "creator"): NOBODY,
    ("approve", "viewer"): NOBODY,
    ("reject", "approver"): row(403, 200, 409, 409, 409, 409),
    ("reject", "admin"): row(409, 200, 409, 409, 409, 409),
    ("reject", "bystander"): NOBODY,
    ("reject", "pm"): NOBODY,
    ("reject", "creator"): NOBODY,
    ("cancel", "creator"): row(200, 200, 403, 409, 409, 409),
    ("cancel", "pm"): row(200, 200, 200, 409, 409, 409),
    ("cancel", "admin"): row(200, 200, 200, 409, 409, 409),
    ("cancel", "approver"): NOBODY,
    ("cancel", "viewer"): NOBODY,
    ("close", "approver"): row(409, 409, 200, 409, 409, 409),
    ("close", "bystander"): row(409, 409, 200, 409, 409, 409),  # any approver of the project
    ("close", "pm"): row(409, 409, 200, 409, 409, 409),
    ("close", "admin"): row(409, 409, 200, 409, 409, 409),
    ("close", "creator"): NOBODY,
    ("close", "viewer"): NOBODY,
}
CASES = [
    pytest.param(action, actor, status, code, id=f"{action}-{status}-by-{actor}-{code}")
    for (action, actor), codes in TABLE.items()
    for status, code in codes.items()
]


@pytest.mark.parametrize(("action", "actor", "status", "code"), CASES)
def test_each_transition_answers_as_the_table_says_and_moves_only_on_success(
    crew: Crew, action: str, actor: str, status: str, code: int
) -> None:
    order_id = crew.order_in(status)

    response = crew.act(action, order_id, actor)

    if code == 200:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == TARGETS[action]
        assert crew.read(order_id)["status"] == TARGETS[action]
    else:
        error = assert_error(response, code, {403: "FORBIDDEN", 409: "CONFLICT"}[code])
        if code == 409:
            assert error["details"]["status"] == status
        assert crew.read(order_id)["status"] == status


@pytest.mark.parametrize("action", list(TARGETS))
def test_a_refused_transition_writes_no_audit_entry(crew: Crew, action: str) -> None:
    order_id = crew.order_in("closed")
    before = crew.audit(order_id)

    assert crew.act(action, order_id, "admin").status_code in (403, 409)

    assert crew.audit(order_id) == before


@pytest.mark.parametrize("action", list(TARGETS))
def test_a_transition_of_an_unknown_order_is_not_found(crew: Crew, action: str) -> None:
    assert_error(crew.act(action, 987654321, "admin"), 404, "NOT_FOUND")


@pytest.mark.parametrize("action", list(TARGETS))
def test_a_transition_of_an_order_on_another_project_is_not_found(
    crew: Crew, action: str, login_as: Callable[[str], Headers]
) -> None:
    start = {"submit": "draft", "close": "approved"}.get(action, "submitted")
    order_id = crew.order_in(start)

    response = crew.client.patch(f"{ORDERS}/{order_id}/{action}", json=BODIES[action], headers=login_as("super"))

    assert_error(response, 404, "NOT_FOUND")
    assert crew.read(order_id)["status"] == start


@pytest.mark.parametrize(
    ("action", "body"),
    [
        pytest.param("approve", {"comments": 5}, id="approve-comments-not-text"),
        pytest.param("approve", {"note": "x"}, id="approve-unknown-field"),
        pytest.param("reject", {"reason": "x", "extra": 1}, id="reject-unknown-field"),
        pytest.param("cancel", {"reason": None}, id="cancel-null-reason"),
        pytest.param("cancel", {"reason": "  "}, id="cancel-blank-reason"),
        pytest.param("close", {"comments": ["x"]}, id="close-comments-not-text"),
        pytest.param("close", {"comments": "x" * 2001}, id="close-comments-too-long"),
    ],
)
def test_a_malformed_transition_body_is_a_bad_request_and_changes_nothing(crew: Crew, action: str, body: Json) -> None:
    order_id = crew.order_in({"close": "approved"}.get(action, "submitted"))

    assert_error(crew.act(action, order_id, "admin", body), 400, "VALIDATION_ERROR")
    assert crew.read(order_id)["status"] == {"close": "approved"}.get(action, "submitted")


def test_a_transition_body_that_is_not_json_is_refused_without_a_server_error(crew: Crew) -> None:
    order_id = crew.order_in("submitted")
    headers = {**crew.approver.headers, "Content-Type": "application/json"}

    response = crew.client.patch(f"{ORDERS}/{order_id}/approve", content=b"{not json", headers=headers)

    assert_error(response, 400, "VALIDATION_ERROR")
    assert crew.read(order_id)["status"] == "submitted"


# Submit and routing ---------------------------------------------------------------------------


class TestSubmit:
    def test_submit_assigns_the_approver_and_records_a_pending_request(self, crew: Crew) -> None:
        order_id = crew.create()["id"]

        submitted = crew.succeed("submit", order_id, "creator")

        assert submitted["status"] == "submitted"
        assert submitted["approver"] == {"id": crew.approver.id, "name": crew.approver.name, "role": "super"}
        assert submitted["submitted_at"].endswith("Z")
        order = crew.read(order_id, "creator")
        assert order["submitted_by"] == {"id": crew.creator.id, "name": crew.creator.name}
        assert order["submitted_at"] == submitted["submitted_at"]
        [request] = order["approval_history"]
        assert request["approver"] == submitted["approver"]
        assert request["status"] == "pending"
        assert request["comments"] is None
        assert request["decided_at"] is None

    def test_anyone_on_the_project_holding_po_submit_may_submit_and_is_recorded(self, crew: Crew) -> None:
        order_id = crew.create()["id"]

        crew.succeed("submit", order_id, "bystander")

        order = crew.read(order_id)
        assert order["submitted_by"]["id"] == crew.bystander.id
        assert order["created_by"]["id"] == crew.creator.id

    def test_routing_picks_the_lowest_limit_that_covers_the_total(self, crew: Crew, make_user: MakeUser) -> None:
        project = (crew.project_id,)
        # on another project, with the same limit and a lower id: not a candidate at all
        make_user("super", projects=("PRJ003",), authorization_limit=Decimal("700.00"), permissions=ALL)
        make_user("super", projects=project, authorization_limit=Decimal("699.99"), permissions=ALL)
        exact, _ = make_user("super", projects=project, authorization_limit=Decimal("700.00"), permissions=ALL)
        make_user("pm", projects=project, authorization_limit=Decimal("800.00"), permissions=ALL)
        order_id = crew.create()["id"]  # 700.00

        submitted = crew.succeed("submit", order_id, "creator")

        assert submitted["approver"] == {"id": exact.id, "name": exact.name, "role": "super"}
        assert crew.read(order_id)["approval_history"][0]["approver"]["id"] == exact.id

    def test_routing_breaks_ties_by_the_lowest_user_id(self, crew: Crew, make_user: MakeUser) -> None:
        project = (crew.project_id,)
        first, _ = make_user("super", projects=project, authorization_limit=Decimal("750.00"), permissions=ALL)
        second, _ = make_user("pm", projects=project, authorization_limit=Decimal("750.00"), permissions=ALL)
        order_id = crew.create()["id"]

        submitted = crew.succeed("submit", order_id, "creator")

        assert first.id < second.id
        assert submitted["approver"]["id"] == first.id

    def test_routing_skips_an_inactive_approver(
        self, crew: Crew, make_user: MakeUser, idl_db: Database, database: Settings
    ) -> None:
        project = (crew.project_id,)
        make_user("super", projects=project, authorization_limit=Decimal("710.00"), permissions=ALL, active=False)
        retired, _ = make_user("super", projects=project, authorization_limit=Decimal("720.00"), permissions=ALL)
        active, _ = make_user("super", projects=project, authorization_limit=Decimal("730.00"), permissions=ALL)
        update_user(idl_db, database, retired.id, active=False)
        order_id = crew.create()["id"]

        assert crew.succeed("submit", order_id, "creator")["approver"]["id"] == active.id

    def test_routing_skips_users_without_po_approve(self, crew: Crew, make_user: MakeUser) -> None:
        project = (crew.project_id,)
        make_user("pm", projects=project, authorization_limit=Decimal("710.00"), permissions=["po:create", "po:submit"])
        order_id = crew.create()["id"]

        assert crew.succeed("submit", order_id, "creator")["approver"]["id"] == crew.approver.id

    def test_routing_never_picks_the_creator(self, crew: Crew, make_user: MakeUser) -> None:
        _, creator = make_user(
            "super", projects=(crew.project_id,), authorization_limit=Decimal("710.00"), permissions=ALL
        )
        response = crew.client.post(ORDERS, json=crew.body(), headers=creator)
        order_id = response.json()["id"]

        submitted = crew.client.patch(f"{ORDERS}/{order_id}/submit", headers=creator)

        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["approver"]["id"] == crew.approver.id

    def test_routing_never_picks_the_submitter(self, crew: Crew, make_user: MakeUser) -> None:
        submitter, headers = make_user(
            "super", projects=(crew.project_id,), authorization_limit=Decimal("710.00"), permissions=ALL
        )
        order_id = crew.create()["id"]

        submitted = crew.client.patch(f"{ORDERS}/{order_id}/submit", headers=headers)

        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["approver"]["id"] == crew.approver.id
        assert crew.read(order_id)["submitted_by"]["id"] == submitter.id

    def test_without_an_approver_covering_the_total_submit_is_422_and_the_order_stays_draft(self, crew: Crew) -> None:
        order_id = crew.create(body=crew.body(line(1, 150000, "EX")))["id"]

        error = assert_error(crew.act("submit", order_id, "creator"), 422, "VALIDATION_ERROR")

        assert crew.project_id in error["message"]
        assert "150000.00" in error["message"]
        order = crew.read(order_id)
        assert order["status"] == "draft"
        assert order["approval_history"] == []
        assert "submitted_by" not in order
        assert crew.audit(order_id, "submitted") == []

    def test_a_total_just_over_every_limit_finds_no_approver(self, crew: Crew) -> None:
        order_id = crew.create(body=crew.body(line(1, 100000.01, "EX")))["id"]

        error = assert_error(crew.act("submit", order_id, "creator"), 422, "VALIDATION_ERROR")

        assert "100000.01" in error["message"]

    def test_an_order_can_be_submitted_once_an_approver_exists(self, crew: Crew, make_user: MakeUser) -> None:
        order_id = crew.create(body=crew.body(line(1, 150000, "EX")))["id"]
        assert crew.act("submit", order_id, "creator").status_code == 422
        rich, _ = make_user("pm", projects=(crew.project_id,), authorization_limit=Decimal("150000"), permissions=ALL)

        assert crew.succeed("submit", order_id, "creator")["approver"]["id"] == rich.id

    def test_submit_needs_po_submit_before_anything_else(self, crew: Crew, make_user: MakeUser) -> None:
        _, creator_only = make_user("foreman", projects=(crew.project_id,), permissions=["po:create"])
        draft = crew.create()["id"]
        submitted = crew.order_in("submitted")

        assert_error(crew.client.patch(f"{ORDERS}/{draft}/submit", headers=creator_only), 403, "FORBIDDEN")
        # a non-draft: the permission answers before the status would
        assert_error(crew.client.patch(f"{ORDERS}/{submitted}/submit", headers=creator_only), 403, "FORBIDDEN")

    def test_the_creator_without_po_submit_cannot_submit_their_own_draft(self, crew: Crew, make_user: MakeUser) -> None:
        _, creator_only = make_user("foreman", projects=(crew.project_id,), permissions=["po:create"])
        created = crew.client.post(ORDERS, json=crew.body(), headers=creator_only).json()

        assert_error(crew.client.patch(f"{ORDERS}/{created['id']}/submit", headers=creator_only), 403, "FORBIDDEN")
        assert crew.read(created["id"])["status"] == "draft"

    def test_submitting_on_a_project_that_is_no_longer_active_is_422(
        self, crew: Crew, idl_db: Database, database: Settings
    ) -> None:
        order_id = crew.create()["id"]
        deactivate_project(idl_db, database, crew.project_id)

        error = assert_error(crew.act("submit", order_id, "admin"), 422, "VALIDATION_ERROR")

        assert crew.project_id in error["message"]
        assert crew.read(order_id)["status"] == "draft"


# Approve and reject ---------------------------------------------------------------------------


class TestApprove:
    def test_the_assigned_approver_approves_and_the_history_records_the_comments(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        approved = crew.succeed("approve", order_id, "approver", {"comments": "Approved for framing"})

        assert approved["status"] == "approved"
        assert approved["approved_by"] == {"id": crew.approver.id, "name": crew.approver.name}
        assert approved["approved_at"].endswith("Z")
        order = crew.read(order_id, "creator")
        assert order["approved_by"] == approved["approved_by"]
        assert order["approved_at"] == approved["approved_at"]
        [decision] = order["approval_history"]
        assert decision["approver"]["id"] == crew.approver.id
        assert decision["status"] == "approved"
        assert decision["comments"] == "Approved for framing"
        assert decision["decided_at"] is not None

    def test_approve_without_a_body_records_no_comments(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        response = crew.client.patch(f"{ORDERS}/{order_id}/approve", headers=crew.approver.headers)

        assert response.status_code == 200, response.text
        [decision] = crew.read(order_id)["approval_history"]
        assert (decision["status"], decision["comments"]) == ("approved", None)

    def test_an_admin_who_created_the_order_may_not_approve_it(self, crew: Crew) -> None:
        order_id = crew.create(by="admin")["id"]
        assert crew.succeed("submit", order_id, "admin")["approver"]["id"] == crew.approver.id

        assert_error(crew.act("approve", order_id, "admin"), 403, "FORBIDDEN")
        assert_error(crew.act("reject", order_id, "admin"), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "submitted"

    def test_an_admin_who_submitted_the_order_may_not_approve_it(self, crew: Crew) -> None:
        order_id = crew.create()["id"]
        crew.succeed("submit", order_id, "admin")

        assert_error(crew.act("approve", order_id, "admin"), 403, "FORBIDDEN")
        assert_error(crew.act("reject", order_id, "admin"), 403, "FORBIDDEN")

    def test_an_approver_who_submitted_is_not_assigned_and_may_not_decide(self, crew: Crew) -> None:
        order_id = crew.create()["id"]
        crew.succeed("submit", order_id, "approver")  # routed to the bystander

        assert_error(crew.act("approve", order_id, "approver"), 403, "FORBIDDEN")
        assert crew.succeed("approve", order_id, "bystander")["approved_by"]["id"] == crew.bystander.id

    def test_an_approver_whose_limit_no_longer_covers_the_total_may_not_approve(
        self, crew: Crew, make_user: MakeUser, idl_db: Database, database: Settings
    ) -> None:
        approver, headers = make_user(
            "super", projects=(crew.project_id,), authorization_limit=Decimal("750.00"), permissions=ALL
        )
        order_id = crew.create()["id"]
        assert crew.succeed("submit", order_id, "creator")["approver"]["id"] == approver.id
        update_user(idl_db, database, approver.id, authorization_limit=Decimal("699.99"))

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/approve", headers=headers), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "submitted"
        # rejecting spends nothing, so it needs no limit
        response = crew.client.patch(f"{ORDERS}/{order_id}/reject", json={"reason": "Too dear"}, headers=headers)
        assert response.status_code == 200, response.text

    def test_an_approver_who_lost_po_approve_may_not_approve(
        self, crew: Crew, make_user: MakeUser, idl_db: Database, database: Settings
    ) -> None:
        approver, headers = make_user(
            "super", projects=(crew.project_id,), authorization_limit=Decimal("750.00"), permissions=ALL
        )
        order_id = crew.create()["id"]
        assert crew.succeed("submit", order_id, "creator")["approver"]["id"] == approver.id
        update_user(idl_db, database, approver.id, permissions=["po:create", "po:submit"])

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/approve", headers=headers), 403, "FORBIDDEN")

    def test_an_admin_needs_a_limit_covering_the_total_too(self, crew: Crew, make_user: MakeUser) -> None:
        _, small_admin = make_user("admin", projects=(), authorization_limit=Decimal("699.99"))
        order_id = crew.order_in("submitted")

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/approve", headers=small_admin), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "submitted"

    def test_an_admin_approving_in_the_approvers_place_cancels_the_pending_request(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        crew.succeed("approve", order_id, "admin", {"comments": "Approver is on leave"})

        order = crew.read(order_id)
        assert order["approved_by"]["id"] == crew.admin.id
        withdrawn, decision = order["approval_history"]
        assert (withdrawn["approver"]["id"], withdrawn["status"]) == (crew.approver.id, "cancelled")
        assert withdrawn["decided_at"] is not None
        assert decision["approver"] == {"id": crew.admin.id, "name": crew.admin.name, "role": "admin"}
        assert (decision["status"], decision["comments"]) == ("approved", "Approver is on leave")
        assert decision["decided_at"] is not None


class TestReject:
    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(None, id="no-body"),
            pytest.param({}, id="no-reason"),
            pytest.param({"reason": ""}, id="empty-reason"),
            pytest.param({"reason": "   "}, id="blank-reason"),
            pytest.param({"reason": "\t\n"}, id="whitespace-reason"),
        ],
    )
    def test_a_rejection_needs_a_reason_that_is_not_blank(self, crew: Crew, body: Json | None) -> None:
        order_id = crew.order_in("submitted")

        response = crew.client.patch(f"{ORDERS}/{order_id}/reject", json=body, headers=crew.approver.headers)

        assert_error(response, 400, "VALIDATION_ERROR")
        assert crew.read(order_id)["status"] == "submitted"

    def test_reject_records_the_reason_and_when(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        rejected = crew.succeed("reject", order_id, "approver", {"reason": "Insufficient budget allocation"})

        assert rejected["status"] == "rejected"
        assert rejected["rejection_reason"] == "Insufficient budget allocation"
        assert rejected["rejected_at"].endswith("Z")
        order = crew.read(order_id, "creator")
        assert order["rejection_reason"] == "Insufficient budget allocation"
        assert order["rejected_at"] == rejected["rejected_at"]
        assert "approved_by" not in order
        [decision] = order["approval_history"]
        assert (decision["status"], decision["comments"]) == ("rejected", "Insufficient budget allocation")

    def test_an_admin_rejecting_in_the_approvers_place_cancels_the_pending_request(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        crew.succeed("reject", order_id, "admin", {"reason": "Duplicate of another P/O"})

        withdrawn, decision = crew.read(order_id)["approval_history"]
        assert (withdrawn["approver"]["id"], withdrawn["status"]) == (crew.approver.id, "cancelled")
        assert (decision["approver"]["id"], decision["status"]) == (crew.admin.id, "rejected")
        assert decision["comments"] == "Duplicate of another P/O"

    @pytest.mark.parametrize(
        ("action", "actor", "code"),
        [
            pytest.param("submit", "creator", 409, id="resubmit"),
            pytest.param("approve", "approver", 409, id="approve"),
            pytest.param("approve", "admin", 409, id="approve-by-admin"),
            pytest.param("reject", "approver", 409, id="reject-again"),
            pytest.param("cancel", "creator", 409, id="cancel-by-creator"),
            pytest.param("cancel", "pm", 409, id="cancel-by-pm"),
            pytest.param("close", "bystander", 409, id="close"),
            pytest.param("close", "creator", 403, id="close-by-creator"),
        ],
    )
    def test_a_rejected_order_is_final(self, crew: Crew, action: str, actor: str, code: int) -> None:
        order_id = crew.order_in("rejected")

        error = assert_error(crew.act(action, order_id, actor), code, {403: "FORBIDDEN", 409: "CONFLICT"}[code])

        if code == 409:
            assert error["details"]["status"] == "rejected"
        assert crew.read(order_id)["status"] == "rejected"


@pytest.mark.parametrize("status", STATUSES[1:])
def test_an_order_past_draft_can_be_neither_edited_nor_deleted(crew: Crew, status: str) -> None:
    order_id = crew.order_in(status)
    headers = crew.creator.headers

    edit = crew.client.put(f"{ORDERS}/{order_id}", json=crew.body(line(1, 1)), headers=headers)
    delete = crew.client.delete(f"{ORDERS}/{order_id}", headers=headers)

    assert assert_error(edit, 403, "FORBIDDEN")["details"]["status"] == status
    assert assert_error(delete, 403, "FORBIDDEN")["details"]["status"] == status
    order = crew.read(order_id)
    assert (order["status"], amount(order["total_amount"])) == (status, Decimal("700.00"))


# Cancel and close -----------------------------------------------------------------------------


class TestCancel:
    def test_the_creator_cancels_a_draft_without_a_reason(self, crew: Crew) -> None:
        order_id = crew.order_in("draft")

        response = crew.client.patch(f"{ORDERS}/{order_id}/cancel", headers=crew.creator.headers)

        assert response.status_code == 200, response.text
        cancelled = response.json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancel_reason"] is None
        assert cancelled["cancelled_by"] == {"id": crew.creator.id, "name": crew.creator.name}
        order = crew.read(order_id)
        assert order["cancelled_by"]["id"] == crew.creator.id
        assert order["cancelled_at"] == cancelled["cancelled_at"]
        assert "cancel_reason" not in order

    def test_cancelling_a_submitted_order_cancels_its_pending_request(self, crew: Crew) -> None:
        order_id = crew.order_in("submitted")

        cancelled = crew.succeed("cancel", order_id, "creator", {"reason": "Ordered through the sub instead"})

        assert cancelled["cancel_reason"] == "Ordered through the sub instead"
        order = crew.read(order_id)
        assert order["cancel_reason"] == "Ordered through the sub instead"
        [request] = order["approval_history"]
        assert (request["approver"]["id"], request["status"]) == (crew.approver.id, "cancelled")
        assert request["decided_at"] is not None

    def test_a_pm_on_the_project_cancels_an_approved_order(self, crew: Crew) -> None:
        order_id = crew.order_in("approved")

        cancelled = crew.succeed("cancel", order_id, "pm")

        assert cancelled["cancelled_by"]["id"] == crew.pm.id
        [decision] = crew.read(order_id)["approval_history"]
        assert decision["status"] == "approved"  # a decision already made stays as it was

    def test_a_pm_without_po_approve_may_not_cancel(self, crew: Crew, make_user: MakeUser) -> None:
        _, pm = make_user("pm", projects=(crew.project_id,), permissions=["po:create", "po:submit"])
        order_id = crew.order_in("submitted")

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/cancel", headers=pm), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "submitted"

    def test_a_pm_of_another_project_does_not_even_see_the_order(self, crew: Crew, make_user: MakeUser) -> None:
        _, pm = make_user("pm", projects=("PRJ003",))
        order_id = crew.order_in("submitted")

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/cancel", headers=pm), 404, "NOT_FOUND")

    def test_a_creator_without_po_submit_may_not_cancel(self, crew: Crew, make_user: MakeUser) -> None:
        _, creator = make_user("foreman", projects=(crew.project_id,), permissions=["po:create"])
        order_id = crew.client.post(ORDERS, json=crew.body(), headers=creator).json()["id"]

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/cancel", headers=creator), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "draft"

    def test_another_foreman_on_the_project_may_not_cancel(self, crew: Crew, make_user: MakeUser) -> None:
        _, colleague = make_user("foreman", projects=(crew.project_id,))
        order_id = crew.order_in("draft")

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/cancel", headers=colleague), 403, "FORBIDDEN")

    def test_the_creator_learns_of_the_status_before_being_refused_an_approved_order(self, crew: Crew) -> None:
        # The order of checks: permission (creator passes), then status, then "only a manager for approved".
        cancelled = crew.order_in("cancelled")
        approved = crew.order_in("approved")

        assert assert_error(crew.act("cancel", cancelled, "creator"), 409, "CONFLICT")["details"]["status"] == (
            "cancelled"
        )
        assert_error(crew.act("cancel", approved, "creator"), 403, "FORBIDDEN")


class TestClose:
    def test_an_approver_of_the_project_closes_an_approved_order(self, crew: Crew) -> None:
        order_id = crew.order_in("approved")

        closed = crew.succeed("close", order_id, "bystander", {"comments": "Delivered and invoiced"})

        assert closed["status"] == "closed"
        assert closed["closed_by"] == {"id": crew.bystander.id, "name": crew.bystander.name}
        assert closed["closed_at"].endswith("Z")
        order = crew.read(order_id)
        assert order["closed_by"]["id"] == crew.bystander.id
        assert order["approved_by"]["id"] == crew.approver.id

    def test_close_takes_no_body_too(self, crew: Crew) -> None:
        order_id = crew.order_in("approved")

        response = crew.client.patch(f"{ORDERS}/{order_id}/close", headers=crew.pm.headers)

        assert response.status_code == 200, response.text

    def test_a_creator_holding_po_approve_may_not_close_their_own_order(self, crew: Crew, make_user: MakeUser) -> None:
        _, creator = make_user(
            "super", projects=(crew.project_id,), authorization_limit=Decimal("30000"), permissions=ALL
        )
        order_id = crew.client.post(ORDERS, json=crew.body(), headers=creator).json()["id"]
        assert crew.client.patch(f"{ORDERS}/{order_id}/submit", headers=creator).status_code == 200
        crew.succeed("approve", order_id, "approver")

        assert_error(crew.client.patch(f"{ORDERS}/{order_id}/close", headers=creator), 403, "FORBIDDEN")
        assert crew.read(order_id)["status"] == "approved"

    def test_an_admin_may_not_close_an_order_they_created(self, crew: Crew) -> None:
        order_id = crew.create(by="admin")["id"]
        crew.succeed("submit", order_id, "admin")
        crew.succeed("approve", order_id, "approver")

        assert_error(crew.act("close", order_id, "admin"), 403, "FORBIDDEN")
        assert crew.succeed("close", order_id, "pm")["closed_by"]["id"] == crew.pm.id


# Spending -------------------------------------------------------------------------------------


def project_spending(crew: Crew, by: str = "creator") -> tuple[Decimal, Decimal]:
    response = crew.client.get(f"{BASE}/projects", headers=crew.members[by].headers)
    assert response.status_code == 200, response.text
    [project] = [project for project in response.json()["data"] if project["id"] == crew.project_id]
    return amount(project["spent"]), amount(project["remaining"])


def cost_code_spending(crew: Crew) -> dict[str, tuple[Decimal, Decimal]]:
    response = crew.client.get(f"{BASE}/projects/{crew.project_id}/cost-codes", headers=crew.creator.headers)
    assert response.status_code == 200, response.text
    return {code["id"]: (amount(code["spent"]), amount(code["remaining"])) for code in response.json()["data"]}


def test_spending_grows_by_the_total_when_an_order_is_approved_and_not_before(crew: Crew) -> None:
    budget = Decimal("100000.00")
    assert project_spending(crew) == (Decimal(0), budget)

    order_id = crew.order_in("submitted")
    crew.order_in("draft")
    crew.order_in("rejected")
    assert project_spending(crew) == (Decimal(0), budget)
    assert cost_code_spending(crew)["CC-001"] == (Decimal(0), Decimal("10000.00"))

    crew.succeed("approve", order_id, "approver")

    assert project_spending(crew) == (Decimal("700.00"), Decimal("99300.00"))
    assert project_spending(crew, "admin") == (Decimal("700.00"), Decimal("99300.00"))
    assert cost_code_spending(crew) == {
        "CC-001": (Decimal("700.00"), Decimal("9300.00")),
        "CC-002": (Decimal(0), Decimal("10000.00")),
    }


def test_a_closed_order_still_counts_and_a_cancelled_approved_one_no_longer_does(crew: Crew) -> None:
    first = crew.order_in("approved")
    second = crew.order_in("approved", crew.body(line(1, 1000, "GST"), cost_code="CC-002"))  # 1050.00
    assert project_spending(crew) == (Decimal("1750.00"), Decimal("98250.00"))

    crew.succeed("close", second, "pm")
    assert project_spending(crew) == (Decimal("1750.00"), Decimal("98250.00"))
    assert cost_code_spending(crew)["CC-002"] == (Decimal("1050.00"), Decimal("8950.00"))

    crew.succeed("cancel", first, "pm")

    assert project_spending(crew) == (Decimal("1050.00"), Decimal("98950.00"))
    assert cost_code_spending(crew) == {
        "CC-001": (Decimal(0), Decimal("10000.00")),
        "CC-002": (Decimal("1050.00"), Decimal("8950.00")),
    }


# Audit trail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "start", "actor", "body", "extra"),
    [
        pytest.param("submit", "draft", "creator", None, {}, id="submitted"),
        pytest.param("approve", "submitted", "approver", {"comments": "Fine"}, {"comments": "Fine"}, id="approved"),
        pytest.param(
            "reject", "submitted", "approver", {"reason": "Too dear"}, {"rejection_reason": "Too dear"}, id="rejected"
        ),
        pytest.param(
            "cancel",
            "draft",
            "creator",
            {"reason": "Not needed"},
            {"cancel_reason": "Not needed"},
            id="cancelled-draft",
        ),
        pytest.param(
            "cancel",
            "approved",
            "admin",
            {"reason": "Scope cut"},
            {"cancel_reason": "Scope cut"},
            id="cancelled-approved",
        ),
        pytest.param("close", "approved", "bystander", {"comments": "Received"}, {"comments": "Received"}, id="closed"),
    ],
)
def test_every_transition_is_audited_with_its_action_and_old_and_new_status(
    crew: Crew, action: str, start: str, actor: str, body: Json | None, extra: Json
) -> None:
    order_id = crew.order_in(start)
    po_number = crew.read(order_id)["po_number"]

    crew.succeed(action, order_id, actor, body)

    [entry] = crew.audit(order_id, TARGETS[action])
    member = crew.members[actor]
    assert entry["user"] == {"id": member.id, "name": member.name, "role": member.role}
    assert entry["old_values"]["status"] == start
    assert entry["new_values"]["status"] == TARGETS[action]
    assert entry["new_values"]["po_number"] == po_number
    assert amount(entry["new_values"]["total_amount"]) == Decimal("700.00")
    for key, value in extra.items():
        assert entry["new_values"][key] == value
    assert entry["ip_address"]


def test_the_submission_audit_names_the_approver_and_submitter(crew: Crew) -> None:
    order_id = crew.order_in("draft")

    crew.succeed("submit", order_id, "bystander")

    [entry] = crew.audit(order_id, "submitted")
    assert entry["new_values"]["approver_id"] == crew.approver.id
    assert entry["new_values"]["submitted_by"] == crew.bystander.id


def test_a_full_life_is_audited_in_order(crew: Crew) -> None:
    order_id = crew.order_in("closed")

    actions = [entry["action"] for entry in crew.audit(order_id)]

    assert actions == ["closed", "approved", "submitted", "created"]
