"""Users, projects and cost codes, vendors, the audit trail, and the API's generic errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from models.idl.tables import User
from tests.idl.conftest import BASE, Headers, assert_error

MakeUser = Callable[..., tuple[User, Headers]]
LoginAs = Callable[[str], Headers]
CreateOrder = Callable[..., dict[str, Any]]

USER_FIELDS = {"id", "uuid", "email", "name", "role", "authorization_limit", "active", "last_login", "created_at"}
PROJECT_FIELDS = {"id", "name", "status", "budget", "spent", "remaining", "start_date", "end_date"}
COST_CODE_FIELDS = {"id", "code", "description", "category", "budget", "spent", "remaining", "active"}
DEMO_DOMAIN = "@idl.example"


def get(client: TestClient, path: str, headers: Headers, **params: Any) -> Any:
    return client.get(f"{BASE}{path}", params=params, headers=headers)


def data(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def days_from_today(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


# --- users -------------------------------------------------------------------------------------


class TestListUsers:
    @pytest.mark.parametrize("role", ["admin", "pm"])
    def test_admins_and_project_managers_may_list_users(self, client: TestClient, login_as: LoginAs, role: str) -> None:
        response = get(client, "/users", login_as(role))

        users = data(response)
        assert users
        for user in users:
            assert set(user) >= USER_FIELDS
            assert "password_hash" not in user
            assert "password" not in user

    @pytest.mark.parametrize("role", ["foreman", "super"])
    def test_foremen_and_superintendents_may_not(self, client: TestClient, login_as: LoginAs, role: str) -> None:
        assert_error(get(client, "/users", login_as(role)), 403, "FORBIDDEN")

    def test_the_demo_users_are_listed_by_name(self, client: TestClient, login_as: LoginAs) -> None:
        users = data(get(client, "/users", login_as("admin"), search=DEMO_DOMAIN))

        assert [user["name"] for user in users] == [
            "Ada Admin",
            "Frank Foreman",
            "Paula Manager",
            "Rita Retired",
            "Sam Super",
        ]
        frank = users[1]
        assert frank["email"] == "foreman@idl.example"
        assert frank["role"] == "foreman"
        assert frank["authorization_limit"] == 5000.0
        assert frank["active"] is True

    def test_users_filter_by_role(self, client: TestClient, login_as: LoginAs) -> None:
        users = data(get(client, "/users", login_as("admin"), role="super", limit=100))

        assert users
        assert {user["role"] for user in users} == {"super"}
        assert "super@idl.example" in {user["email"] for user in users}

    def test_users_filter_by_active(self, client: TestClient, login_as: LoginAs) -> None:
        admin = login_as("admin")

        inactive = data(get(client, "/users", admin, active="false", search=DEMO_DOMAIN))
        active = data(get(client, "/users", admin, active="true", search=DEMO_DOMAIN))
        everyone = data(get(client, "/users", admin, search=DEMO_DOMAIN))

        assert [user["email"] for user in inactive] == ["retired@idl.example"]
        assert inactive[0]["active"] is False
        assert "retired@idl.example" not in {user["email"] for user in active}
        assert all(user["active"] for user in active)
        assert len(everyone) == len(active) + len(inactive) == 5

    @pytest.mark.parametrize(
        ("search", "email"),
        [
            pytest.param("paula", "pm@idl.example", id="name-lower-case"),
            pytest.param("MANAGER", "pm@idl.example", id="name-upper-case"),
            pytest.param("super@IDL", "super@idl.example", id="email"),
            pytest.param("retired@", "retired@idl.example", id="email-of-an-inactive-user"),
        ],
    )
    def test_users_search_by_name_or_email_case_insensitively(
        self, client: TestClient, login_as: LoginAs, search: str, email: str
    ) -> None:
        users = data(get(client, "/users", login_as("pm"), search=search))

        assert [user["email"] for user in users] == [email]

    def test_filters_combine(self, client: TestClient, login_as: LoginAs) -> None:
        users = data(get(client, "/users", login_as("admin"), role="foreman", active="true", search=DEMO_DOMAIN))

        assert [user["email"] for user in users] == ["foreman@idl.example"]

    def test_an_empty_search_does_not_filter(self, client: TestClient, login_as: LoginAs) -> None:
        admin = login_as("admin")

        everyone = get(client, "/users", admin).json()["pagination"]["total"]

        assert get(client, "/users", admin, search="").json()["pagination"]["total"] == everyone

    def test_users_come_in_pages(self, client: TestClient, login_as: LoginAs, make_user: MakeUser) -> None:
        admin = login_as("admin")
        for _ in range(3):
            make_user("foreman", name="Pagination Probe")

        first = get(client, "/users", admin, search="Pagination Probe", limit=2, page=1)
        second = get(client, "/users", admin, search="Pagination Probe", limit=2, page=2)
        total = first.json()["pagination"]["total"]

        assert total >= 3
        assert first.json()["pagination"] == {"page": 1, "limit": 2, "total": total, "pages": -(-total // 2)}
        assert second.json()["pagination"]["page"] == 2
        assert len(data(first)) == 2
        assert data(second)
        assert not {user["id"] for user in data(first)} & {user["id"] for user in data(second)}

    def test_the_default_page_has_twenty_users(self, client: TestClient, login_as: LoginAs) -> None:
        body = get(client, "/users", login_as("admin")).json()

        assert body["pagination"]["page"] == 1
        assert body["pagination"]["limit"] == 20
        assert len(body["data"]) == min(20, body["pagination"]["total"])

    def test_a_page_past_the_last_is_empty(self, client: TestClient, login_as: LoginAs) -> None:
        body = get(client, "/users", login_as("admin"), search=DEMO_DOMAIN, page=99).json()

        assert body["data"] == []
        assert body["pagination"] == {"page": 99, "limit": 20, "total": 5, "pages": 1}

    def test_no_match_gives_an_empty_page(self, client: TestClient, login_as: LoginAs) -> None:
        body = get(client, "/users", login_as("admin"), search="no-such-user-anywhere").json()

        assert body == {"data": [], "pagination": {"page": 1, "limit": 20, "total": 0, "pages": 0}}


class TestCurrentUser:
    def test_the_profile_carries_permissions_and_projects(self, client: TestClient, login_as: LoginAs) -> None:
        response = get(client, "/users/me", login_as("foreman"))

        assert response.status_code == 200, response.text
        profile = response.json()
        assert set(profile) >= USER_FIELDS | {"permissions", "project_ids"}
        assert profile["email"] == "foreman@idl.example"
        assert profile["name"] == "Frank Foreman"
        assert profile["role"] == "foreman"
        assert profile["authorization_limit"] == 5000.0
        assert profile["active"] is True
        assert profile["permissions"] == ["po:create", "po:submit"]
        assert profile["project_ids"] == ["PRJ001", "PRJ002"]
        assert "password_hash" not in profile

    def test_the_profile_is_the_callers_own(self, client: TestClient, make_user: MakeUser) -> None:
        user, headers = make_user("super", projects=("PRJ002", "PRJ003"), permissions=["po:approve"])

        profile = get(client, "/users/me", headers).json()

        assert profile["id"] == user.id
        assert profile["email"] == user.email
        assert profile["role"] == "super"
        assert profile["permissions"] == ["po:approve"]
        assert profile["project_ids"] == ["PRJ002", "PRJ003"]
        assert profile["authorization_limit"] == 25000.0

    def test_the_profile_matches_the_users_listing(self, client: TestClient, login_as: LoginAs) -> None:
        profile = get(client, "/users/me", login_as("pm")).json()

        listed = data(get(client, "/users", login_as("admin"), search="pm@idl.example"))

        assert listed == [{key: profile[key] for key in listed[0]}]


# --- projects and cost codes -------------------------------------------------------------------


class TestProjects:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            pytest.param("foreman", ["PRJ001", "PRJ002"], id="foreman"),
            pytest.param("super", ["PRJ001"], id="super"),
            pytest.param("pm", ["PRJ001", "PRJ002", "PRJ003"], id="pm"),
        ],
    )
    def test_projects_are_scoped_to_the_callers_projects(
        self, client: TestClient, login_as: LoginAs, role: str, expected: list[str]
    ) -> None:
        projects = data(get(client, "/projects", login_as(role)))

        assert [project["id"] for project in projects] == expected

    def test_an_admin_sees_every_active_project(self, client: TestClient, login_as: LoginAs) -> None:
        projects = data(get(client, "/projects", login_as("admin")))
        ids = [project["id"] for project in projects]

        assert {"PRJ001", "PRJ002", "PRJ003"} <= set(ids)
        assert "PRJ004" not in ids
        assert ids == sorted(ids)
        assert {project["status"] for project in projects} == {"active"}

    def test_a_user_on_no_project_sees_no_projects(self, client: TestClient, make_user: MakeUser) -> None:
        _, headers = make_user("foreman", projects=())

        assert data(get(client, "/projects", headers)) == []

    def test_active_false_lists_only_inactive_projects(self, client: TestClient, login_as: LoginAs) -> None:
        projects = data(get(client, "/projects", login_as("admin"), active="false"))

        assert "PRJ004" in [project["id"] for project in projects]
        assert {project["status"] for project in projects} == {"inactive"}
        assert data(get(client, "/projects", login_as("pm"), active="false")) == []

    def test_active_true_is_the_default(self, client: TestClient, login_as: LoginAs) -> None:
        admin = login_as("admin")

        assert data(get(client, "/projects", admin, active="true")) == data(get(client, "/projects", admin))

    def test_an_inactive_project_of_a_non_admin_is_listed_when_asked_for(
        self, client: TestClient, make_user: MakeUser
    ) -> None:
        _, headers = make_user("foreman", projects=("PRJ001", "PRJ004"))

        assert [project["id"] for project in data(get(client, "/projects", headers, active="false"))] == ["PRJ004"]
        assert [project["id"] for project in data(get(client, "/projects", headers))] == ["PRJ001"]

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            pytest.param("riverside", ["PRJ002"], id="name"),
            pytest.param("MEDICAL", ["PRJ002"], id="name-upper-case"),
            pytest.param("prj003", ["PRJ003"], id="id"),
            pytest.param("Building", ["PRJ001"], id="name-word"),
            pytest.param("PRJ00", ["PRJ001", "PRJ002", "PRJ003"], id="id-prefix"),
        ],
    )
    def test_projects_search_by_name_or_id(
        self, client: TestClient, login_as: LoginAs, search: str, expected: list[str]
    ) -> None:
        projects = data(get(client, "/projects", login_as("pm"), search=search))

        assert [project["id"] for project in projects] == expected

    def test_a_project_shows_its_budget_and_spending(self, client: TestClient, login_as: LoginAs) -> None:
        projects = {project["id"]: project for project in data(get(client, "/projects", login_as("pm")))}

        downtown, harbor = projects["PRJ001"], projects["PRJ003"]
        assert set(downtown) == PROJECT_FIELDS
        assert downtown["name"] == "Downtown Office Building"
        assert downtown["status"] == "active"
        assert downtown["budget"] == 2500000.0
        assert downtown["start_date"] == "2025-01-01"
        assert downtown["end_date"] == "2026-12-31"
        assert downtown["spent"] >= 0
        assert downtown["remaining"] == round(downtown["budget"] - downtown["spent"], 2)
        assert harbor["end_date"] is None


class TestCostCodes:
    def test_a_projects_cost_codes_are_ordered_by_code_and_include_inactive_ones(
        self, client: TestClient, login_as: LoginAs
    ) -> None:
        codes = data(get(client, "/projects/PRJ001/cost-codes", login_as("foreman")))

        assert [(code["code"], code["id"]) for code in codes] == [
            ("01-100", "CC-001"),
            ("01-500", "CC-005"),
            ("03-300", "CC-002"),
            ("06-100", "CC-003"),
            ("26-000", "CC-004"),
        ]
        inactive = codes[1]
        assert inactive["active"] is False
        assert inactive["description"] == "Temporary Facilities"
        assert inactive["category"] == "General Conditions"
        for code in codes:
            assert set(code) == COST_CODE_FIELDS
            assert code["remaining"] == round(code["budget"] - code["spent"], 2)

    def test_cost_codes_belong_to_the_project_asked_for(self, client: TestClient, login_as: LoginAs) -> None:
        codes = data(get(client, "/projects/PRJ002/cost-codes", login_as("foreman")))

        assert [(code["id"], code["description"]) for code in codes] == [
            ("CC-001", "Site Preparation"),
            ("CC-002", "Structural Steel"),
            ("CC-003", "Plumbing"),
        ]

    def test_a_project_the_caller_is_not_on_answers_404(self, client: TestClient, login_as: LoginAs) -> None:
        assert_error(get(client, "/projects/PRJ002/cost-codes", login_as("super")), 404, "NOT_FOUND")

    @pytest.mark.parametrize("role", ["foreman", "admin"])
    def test_a_project_that_does_not_exist_answers_404(self, client: TestClient, login_as: LoginAs, role: str) -> None:
        assert_error(get(client, "/projects/PRJ999/cost-codes", login_as(role)), 404, "NOT_FOUND")

    def test_an_admin_sees_the_cost_codes_of_an_inactive_project(self, client: TestClient, login_as: LoginAs) -> None:
        codes = data(get(client, "/projects/PRJ004/cost-codes", login_as("admin")))

        assert [code["id"] for code in codes] == ["CC-001"]

    def test_a_malformed_project_id_answers_400(self, client: TestClient, login_as: LoginAs) -> None:
        error = assert_error(get(client, "/projects/-bad/cost-codes", login_as("admin")), 400, "VALIDATION_ERROR")

        assert error["details"]["field"] == "id"


# --- vendors -----------------------------------------------------------------------------------


class TestVendors:
    def test_every_vendor_is_listed_by_name_without_a_filter(self, client: TestClient, login_as: LoginAs) -> None:
        vendors = data(get(client, "/vendors", login_as("foreman")))
        ids = [vendor["id"] for vendor in vendors]

        assert {f"VEN00{number}" for number in range(1, 7)} <= set(ids)
        names = [vendor["name"] for vendor in vendors]
        assert names == sorted(names)
        abc = vendors[ids.index("VEN001")]
        assert abc == {
            "id": "VEN001",
            "name": "ABC Supply Co.",
            "contact_info": {
                "email": "orders@abcsupply.com",
                "phone": "555-0123",
                "address": "123 Main St, City, State 12345",
            },
            "payment_terms": "Net 30",
            "active": True,
        }
        evergreen = vendors[ids.index("VEN005")]
        assert evergreen["contact_info"] == {"email": None, "phone": "555-0110", "address": None}
        assert evergreen["payment_terms"] is None

    def test_vendors_filter_by_active(self, client: TestClient, login_as: LoginAs) -> None:
        headers = login_as("super")

        active = data(get(client, "/vendors", headers, active="true"))
        inactive = data(get(client, "/vendors", headers, active="false"))

        assert "VEN006" not in {vendor["id"] for vendor in active}
        assert all(vendor["active"] for vendor in active)
        assert "VEN006" in {vendor["id"] for vendor in inactive}
        assert not any(vendor["active"] for vendor in inactive)

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            pytest.param("supply", ["VEN001"], id="lower-case"),
            pytest.param("STEEL", ["VEN004"], id="upper-case"),
            pytest.param("foothill", ["VEN006"], id="inactive-vendor"),
        ],
    )
    def test_vendors_search_by_name(
        self, client: TestClient, login_as: LoginAs, search: str, expected: list[str]
    ) -> None:
        assert [vendor["id"] for vendor in data(get(client, "/vendors", login_as("pm"), search=search))] == expected

    def test_search_and_active_combine(self, client: TestClient, login_as: LoginAs) -> None:
        assert data(get(client, "/vendors", login_as("pm"), search="foothill", active="true")) == []

    def test_the_search_does_not_match_other_fields(self, client: TestClient, login_as: LoginAs) -> None:
        assert data(get(client, "/vendors", login_as("pm"), search="orders@abcsupply.com")) == []


# --- audit trail -------------------------------------------------------------------------------


class TestAuditLogs:
    @pytest.mark.parametrize("role", ["pm", "super", "foreman"])
    def test_only_admins_may_read_the_audit_trail(self, client: TestClient, login_as: LoginAs, role: str) -> None:
        assert_error(get(client, "/audit-logs", login_as(role)), 403, "FORBIDDEN")

    def test_the_default_page_has_fifty_entries_newest_first(self, client: TestClient, login_as: LoginAs) -> None:
        body = get(client, "/audit-logs", login_as("admin")).json()

        assert body["pagination"]["limit"] == 50
        assert body["pagination"]["page"] == 1
        assert len(body["data"]) == min(50, body["pagination"]["total"])
        stamps = [entry["created_at"] for entry in body["data"]]
        assert stamps == sorted(stamps, reverse=True)
        for entry in body["data"]:
            assert set(entry) == {
                "id",
                "entity_type",
                "entity_id",
                "action",
                "user",
                "old_values",
                "new_values",
                "ip_address",
                "created_at",
            }

    def test_the_audit_trail_comes_in_pages(self, client: TestClient, login_as: LoginAs) -> None:
        admin = login_as("admin")

        first = get(client, "/audit-logs", admin, limit=3, page=1).json()
        second = get(client, "/audit-logs", admin, limit=3, page=2).json()

        total = first["pagination"]["total"]
        assert total >= 6
        assert first["pagination"] == {"page": 1, "limit": 3, "total": total, "pages": -(-total // 3)}
        assert len(first["data"]) == len(second["data"]) == 3
        assert not {entry["id"] for entry in first["data"]} & {entry["id"] for entry in second["data"]}
        assert first["data"][-1]["created_at"] >= second["data"][0]["created_at"]

    def test_a_new_po_has_one_created_entry(
        self, client: TestClient, login_as: LoginAs, create_order: CreateOrder
    ) -> None:
        foreman = login_as("foreman")
        order = create_order(foreman)
        frank = get(client, "/users/me", foreman).json()

        entries = data(
            get(client, "/audit-logs", login_as("admin"), entity_type="purchase_order", entity_id=str(order["id"]))
        )

        assert len(entries) == 1
        entry = entries[0]
        assert entry["action"] == "created"
        assert entry["entity_type"] == "purchase_order"
        assert entry["entity_id"] == str(order["id"])
        assert entry["user"] == {"id": frank["id"], "name": "Frank Foreman", "role": "foreman"}
        assert entry["old_values"] is None
        assert entry["new_values"]["po_number"] == order["po_number"]
        assert entry["new_values"]["status"] == "draft"
        assert entry["ip_address"]

    def test_the_audit_trail_filters_by_user(
        self, client: TestClient, login_as: LoginAs, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        user, headers = make_user("foreman")
        first, second = create_order(headers), create_order(headers)

        entries = data(get(client, "/audit-logs", login_as("admin"), user_id=user.id))

        assert {entry["user"]["id"] for entry in entries} == {user.id}
        assert {entry["entity_id"] for entry in entries} == {str(first["id"]), str(second["id"])}

    def test_the_audit_trail_filters_by_action_and_entity_type(self, client: TestClient, login_as: LoginAs) -> None:
        admin = login_as("admin")

        created = data(get(client, "/audit-logs", admin, action="created", limit=100))
        orders = data(get(client, "/audit-logs", admin, entity_type="purchase_order", limit=100))

        assert created
        assert {entry["action"] for entry in created} == {"created"}
        assert orders
        assert {entry["entity_type"] for entry in orders} == {"purchase_order"}

    def test_the_audit_trail_filters_combine(
        self, client: TestClient, login_as: LoginAs, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        user, headers = make_user("foreman")
        order = create_order(headers)
        assert client.delete(f"{BASE}/purchase-orders/{order['id']}", headers=headers).status_code == 204

        entries = data(get(client, "/audit-logs", login_as("admin"), user_id=user.id, action="deleted"))

        assert [(entry["entity_id"], entry["action"]) for entry in entries] == [(str(order["id"]), "deleted")]

    def test_the_audit_trail_filters_by_date(
        self, client: TestClient, login_as: LoginAs, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        user, headers = make_user("foreman")
        create_order(headers)
        admin = login_as("admin")

        def total(**dates: str) -> int:
            count: int = get(client, "/audit-logs", admin, user_id=user.id, **dates).json()["pagination"]["total"]
            return count

        assert total(date_from=today(), date_to=today()) == 1
        assert total(date_from=today()) == 1
        assert total(date_to=today()) == 1
        assert total(date_from=days_from_today(-7), date_to=days_from_today(7)) == 1
        assert total(date_to=days_from_today(-1)) == 0
        assert total(date_from=days_from_today(1)) == 0

    def test_date_from_after_date_to_matches_nothing(self, client: TestClient, login_as: LoginAs) -> None:
        response = get(client, "/audit-logs", login_as("admin"), date_from="2025-02-01", date_to="2025-01-31")

        assert response.status_code == 200
        assert response.json()["data"] == []
        assert response.json()["pagination"]["total"] == 0

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            pytest.param("date_from", "2025-02-30", id="impossible-date"),
            pytest.param("date_to", "31/01/2025", id="not-iso"),
            pytest.param("user_id", "abc", id="user-id-not-a-number"),
            pytest.param("user_id", "0", id="user-id-zero"),
            pytest.param("entity_type", "Purchase Order", id="entity-type-not-a-word"),
        ],
    )
    def test_an_invalid_filter_answers_400(self, client: TestClient, login_as: LoginAs, name: str, value: str) -> None:
        response = get(client, "/audit-logs", login_as("admin"), **{name: value})

        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["details"]["field"] == name


# --- generic errors ----------------------------------------------------------------------------


class TestErrors:
    @pytest.mark.parametrize("path", ["/nope", "/users/me/extra", "/purchase-orders/1/nope", "/"])
    def test_an_unknown_path_answers_404_in_the_idl_format(
        self, client: TestClient, login_as: LoginAs, path: str
    ) -> None:
        response = client.get(f"{BASE}{path}", headers=login_as("admin"))

        error = assert_error(response, 404, "NOT_FOUND")
        assert error["message"]
        assert set(response.json()) == {"error"}

    def test_an_unknown_path_answers_404_even_without_a_token(self, client: TestClient) -> None:
        assert_error(client.get(f"{BASE}/no-such-thing"), 404, "NOT_FOUND")

    @pytest.mark.parametrize(
        ("method", "path", "allowed"),
        [
            pytest.param("DELETE", "/users/me", {"GET"}, id="users-me"),
            pytest.param("PUT", "/auth/login", {"POST"}, id="login"),
            pytest.param("POST", "/vendors", {"GET"}, id="vendors"),
            pytest.param("PATCH", "/purchase-orders", {"GET", "POST"}, id="purchase-orders"),
            pytest.param("GET", "/files/1", {"DELETE"}, id="file"),
            pytest.param("POST", "/purchase-orders/1", {"GET", "PUT", "DELETE"}, id="purchase-order"),
        ],
    )
    def test_a_method_a_path_does_not_offer_answers_405_with_an_allow_header(
        self, client: TestClient, login_as: LoginAs, method: str, path: str, allowed: set[str]
    ) -> None:
        response = client.request(method, f"{BASE}{path}", headers=login_as("admin"))

        assert_error(response, 405, "VALIDATION_ERROR")
        assert {name.strip() for name in response.headers["allow"].split(",")} == allowed

    @pytest.mark.parametrize(
        ("path", "params", "field"),
        [
            pytest.param("/users", {"limit": 0}, "limit", id="users-limit-0"),
            pytest.param("/users", {"limit": 101}, "limit", id="users-limit-101"),
            pytest.param("/users", {"page": 0}, "page", id="users-page-0"),
            pytest.param("/users", {"limit": "ten"}, "limit", id="users-limit-not-a-number"),
            pytest.param("/users", {"role": "boss"}, "role", id="users-unknown-role"),
            pytest.param("/users", {"active": "maybe"}, "active", id="users-active-not-a-boolean"),
            pytest.param("/audit-logs", {"limit": 0}, "limit", id="audit-limit-0"),
            pytest.param("/audit-logs", {"limit": 101}, "limit", id="audit-limit-101"),
            pytest.param("/audit-logs", {"page": 0}, "page", id="audit-page-0"),
            pytest.param("/purchase-orders", {"limit": 101}, "limit", id="orders-limit-101"),
            pytest.param("/purchase-orders", {"page": 0}, "page", id="orders-page-0"),
            pytest.param("/projects", {"search": "x" * 201}, "search", id="projects-search-too-long"),
            pytest.param("/vendors", {"active": "yes please"}, "active", id="vendors-active-not-a-boolean"),
        ],
    )
    def test_an_invalid_query_parameter_answers_400_naming_the_field(
        self, client: TestClient, login_as: LoginAs, path: str, params: dict[str, Any], field: str
    ) -> None:
        response = get(client, path, login_as("admin"), **params)

        error = assert_error(response, 400, "VALIDATION_ERROR")
        details = error["details"]
        assert details["field"] == field
        assert details["message"]
        assert details["errors"][field] == [details["message"]]
        assert list(details["errors"]) == [field]

    def test_every_invalid_query_parameter_is_listed(self, client: TestClient, login_as: LoginAs) -> None:
        response = get(client, "/users", login_as("admin"), limit=0, page=0)

        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert set(error["details"]["errors"]) == {"limit", "page"}

    @pytest.mark.parametrize("limit", [1, 100])
    def test_the_bounds_of_limit_are_accepted(self, client: TestClient, login_as: LoginAs, limit: int) -> None:
        body = get(client, "/users", login_as("admin"), limit=limit).json()

        assert body["pagination"]["limit"] == limit
        assert len(body["data"]) <= limit

    def test_every_response_carries_a_request_id(self, client: TestClient, login_as: LoginAs) -> None:
        ok = get(client, "/vendors", login_as("pm"))
        forbidden = get(client, "/users", login_as("foreman"))

        assert ok.headers["x-request-id"]
        assert forbidden.json()["error"]["request_id"] == forbidden.headers["x-request-id"]
        assert ok.headers["x-request-id"] != forbidden.headers["x-request-id"]
