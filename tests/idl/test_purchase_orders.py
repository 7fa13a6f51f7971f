"""Purchase orders in draft: creation and its amounts, reading, replacement, soft deletion, listing, audit.

Most tests work on a project of their own (imported like JobCost's export) with users made for them,
so P/O numbers, lists and totals are theirs alone; demo data is used where the rule is about it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.factory import App
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Accounts, Users
from models.idl.reference import import_rows
from models.idl.tables import User, UserProject
from tests.idl.conftest import BASE, Headers, assert_error, idl_of, line, order_body

Json = dict[str, Any]
MakeUser = Callable[..., tuple[User, Headers]]
CreateOrder = Callable[..., Json]
LoginAs = Callable[[str], Headers]

ORDERS = f"{BASE}/purchase-orders"
CLIENT_ADDRESS = "203.0.113.7"


def amount(value: Any) -> Decimal:
    """A JSON number as the decimal it was written as, so 700.0 == Decimal("700.00")."""
    return Decimal(str(value))


def import_project(idl_db: Database, settings: Settings, budget: str = "100000.00") -> tuple[str, str]:
    """A new active project with cost codes CC-001, CC-002 (active) and CC-009 (inactive): (id, job number)."""
    suffix = uuid.uuid4().hex[:10].upper()
    project_id, job_number = f"T{suffix}", f"J{suffix}"

    def cost_code(code_id: str, active: bool) -> Json:
        return {
            "project_id": project_id,
            "id": code_id,
            "code": f"0{code_id[-1]}-100",
            "description": f"Cost code {code_id}",
            "category": "Construction",
            "budget": "10000.00",
            "active": active,
        }

    with UnitOfWork(idl_db, settings) as work:
        project = {"id": project_id, "job_number": job_number, "name": f"Project {suffix}", "budget": budget}
        import_rows(work, "projects", [project])
        import_rows(
            work, "cost-codes", [cost_code("CC-001", True), cost_code("CC-002", True), cost_code("CC-009", False)]
        )
        work.commit()
    return project_id, job_number


def new_user(idl_db: Database, settings: Settings, role: str, projects: tuple[str, ...], **options: Any) -> User:
    with UnitOfWork(idl_db, settings) as work:
        user = Users(work).create(
            email=f"{role}-{uuid.uuid4().hex[:10]}@idl.test",
            name=options.pop("name", f"Site {role.title()}"),
            role=role,
            password="a-long-test-password",
            project_ids=projects,
            **options,
        )
        work.commit()
    return user


def assign(idl_db: Database, settings: Settings, project_id: str, *users: User) -> None:
    """Put existing users on a project (as JobCost would), without the cost of making new ones."""
    with UnitOfWork(idl_db, settings) as work:
        work.session.add_all(UserProject(user_id=user.id, project_id=project_id) for user in users)
        work.commit()


def headers_of(idl_db: Database, settings: Settings, user: User) -> Headers:
    with UnitOfWork(idl_db, settings) as work:
        account = work.session.get(User, user.id)
        assert account is not None
        tokens = Accounts(work, idl_of(settings).jwt).issue_for(account)
        work.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


@dataclass(frozen=True)
class Site:
    """A project of one test's own, its foreman (the creator) and a second foreman on it."""

    project_id: str
    job_number: str
    foreman: User
    creator: Headers
    colleague: Headers

    def body(self, *lines: Json, **fields: Any) -> Json:
        return order_body(*lines, **{"project_id": self.project_id, "cost_code": "CC-001", **fields})


@pytest.fixture(scope="module")
def foremen(idl_db: Database, database: Settings) -> tuple[User, User]:
    """Two foremen (po:create, po:submit) that each test's site puts on its own new project."""
    return (
        new_user(idl_db, database, "foreman", (), name="Fiona Foreman"),
        new_user(idl_db, database, "foreman", ()),
    )


@pytest.fixture
def site(idl_db: Database, database: Settings, foremen: tuple[User, User]) -> Site:
    project_id, job_number = import_project(idl_db, database)
    foreman, colleague = foremen
    assign(idl_db, database, project_id, foreman, colleague)
    return Site(
        project_id,
        job_number,
        foreman,
        headers_of(idl_db, database, foreman),
        headers_of(idl_db, database, colleague),
    )


def get_order(client: TestClient, order_id: int, headers: Headers) -> Json:
    response = client.get(f"{ORDERS}/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def listing(client: TestClient, headers: Headers, **params: Any) -> Json:
    response = client.get(ORDERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def numbers_of(page: Json) -> list[str]:
    return [order["po_number"] for order in page["data"]]


def submit_to_demo_approver(client: TestClient, order_id: int, headers: Headers) -> None:
    response = client.patch(f"{ORDERS}/{order_id}/submit", headers=headers)
    assert response.status_code == 200, response.text


# Creation ----------------------------------------------------------------------------------


class TestCreation:
    def test_a_created_order_is_a_draft_with_its_location_and_the_projects_first_number(
        self, client: TestClient, site: Site
    ) -> None:
        response = client.post(ORDERS, json=site.body(), headers=site.creator)

        assert response.status_code == 201, response.text
        created = response.json()
        assert created["status"] == "draft"
        assert created["po_number"] == f"{site.job_number}-PO-001"
        assert response.headers["location"] == f"{ORDERS}/{created['id']}"
        assert created["created_at"].endswith("Z")
        assert get_order(client, created["id"], site.creator)["po_number"] == created["po_number"]

    def test_po_numbers_are_sequential_per_project(
        self, client: TestClient, site: Site, idl_db: Database, database: Settings, create_order: CreateOrder
    ) -> None:
        other_project, other_job = import_project(idl_db, database)
        assign(idl_db, database, other_project, site.foreman)

        first = create_order(site.creator, site.body())["po_number"]
        elsewhere = create_order(site.creator, site.body(project_id=other_project))["po_number"]
        second = create_order(site.creator, site.body())["po_number"]
        third = create_order(site.colleague, site.body())["po_number"]

        assert [first, second, third] == [f"{site.job_number}-PO-{n:03d}" for n in (1, 2, 3)]
        assert elsewhere == f"{other_job}-PO-001"

    def test_demo_project_numbers_use_the_job_number(self, create_order: CreateOrder, login_as: LoginAs) -> None:
        created = create_order(login_as("foreman"), order_body())

        assert re.fullmatch(r"25210-PO-\d{3}", created["po_number"]), created["po_number"]

    def test_the_documents_example_line_costs_625_plus_75_tax_making_700(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(50.0, 12.5, "GP", "2x4 Lumber - 8ft")))
        order = get_order(client, created["id"], site.creator)

        assert amount(created["total_amount"]) == Decimal("700.00")
        assert (amount(order["subtotal"]), amount(order["tax_amount"]), amount(order["total_amount"])) == (
            Decimal("625.00"),
            Decimal("75.00"),
            Decimal("700.00"),
        )
        [item] = order["line_items"]
        assert item["line_number"] == 1
        assert item["description"] == "2x4 Lumber - 8ft"
        assert amount(item["quantity"]) == Decimal(50)
        assert amount(item["unit_price"]) == Decimal("12.50")
        assert item["tax_code"] == "GP"
        assert amount(item["tax_rate"]) == Decimal(12)
        assert amount(item["tax_amount"]) == Decimal("75.00")
        assert amount(item["line_total"]) == Decimal("700.00")

    @pytest.mark.parametrize(
        ("quantity", "unit_price", "tax_code", "net", "tax"),
        [
            pytest.param(0.125, 3.0, "EX", "0.38", "0.00", id="0.375-net-rounds-up"),
            pytest.param(0.125, 1.0, "EX", "0.13", "0.00", id="0.125-net-rounds-half-up-not-to-even"),
            pytest.param(1, 10.05, "GP", "10.05", "1.21", id="12%-of-10.05-is-1.206-rounds-to-1.21"),
            pytest.param(1, 0.5, "GST", "0.50", "0.03", id="5%-of-0.50-is-0.025-rounds-half-up"),
            pytest.param(3, 0.1, "PST", "0.30", "0.02", id="7%-of-0.30-is-0.021-rounds-down"),
        ],
    )
    def test_each_lines_net_and_tax_are_rounded_half_up_to_cents(
        self,
        client: TestClient,
        site: Site,
        create_order: CreateOrder,
        quantity: float,
        unit_price: float,
        tax_code: str,
        net: str,
        tax: str,
    ) -> None:
        created = create_order(site.creator, site.body(line(quantity, unit_price, tax_code)))
        order = get_order(client, created["id"], site.creator)

        [item] = order["line_items"]
        assert amount(item["tax_amount"]) == Decimal(tax)
        assert amount(item["line_total"]) == Decimal(net) + Decimal(tax)
        assert amount(order["subtotal"]) == Decimal(net)
        assert amount(order["tax_amount"]) == Decimal(tax)
        assert amount(order["total_amount"]) == amount(created["total_amount"]) == Decimal(net) + Decimal(tax)

    def test_several_lines_are_numbered_in_order_and_the_order_sums_their_rounded_amounts(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        lines = [
            line(50, 12.5, "GP", "Lumber"),  # 625.00 + 75.00
            line(0.125, 3, "EX", "Anchor"),  # 0.38 + 0.00
            line(1, 10.05, "GP", "Nails"),  # 10.05 + 1.21
            line(1, 0.5, "GST", "Washer"),  # 0.50 + 0.03
        ]
        created = create_order(site.creator, site.body(*lines))
        order = get_order(client, created["id"], site.creator)

        items = order["line_items"]
        assert [item["line_number"] for item in items] == [1, 2, 3, 4]
        assert [item["description"] for item in items] == ["Lumber", "Anchor", "Nails", "Washer"]
        assert [amount(item["tax_rate"]) for item in items] == [Decimal(12), Decimal(0), Decimal(12), Decimal(5)]
        assert amount(order["subtotal"]) == Decimal("635.93")
        assert amount(order["tax_amount"]) == Decimal("76.24")
        assert amount(order["total_amount"]) == Decimal("712.17")
        assert sum(amount(item["line_total"]) for item in items) == Decimal("712.17")
        assert sum(amount(item["tax_amount"]) for item in items) == Decimal("76.24")

    def test_quantity_is_rounded_half_up_to_3_places_before_pricing(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(1.0005, 1000, "EX")))
        [item] = get_order(client, created["id"], site.creator)["line_items"]

        assert amount(item["quantity"]) == Decimal("1.001")
        assert amount(item["line_total"]) == Decimal("1001.00")

    def test_unit_price_is_rounded_half_up_to_2_places_before_pricing(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(10, 2.665, "EX")))
        [item] = get_order(client, created["id"], site.creator)["line_items"]

        assert amount(item["unit_price"]) == Decimal("2.67")  # half-even would give 2.66
        assert amount(item["line_total"]) == Decimal("26.70")

    def test_a_total_of_exactly_the_largest_amount_is_accepted(self, site: Site, create_order: CreateOrder) -> None:
        created = create_order(site.creator, site.body(line(1, 9999999999.99, "EX")))

        assert amount(created["total_amount"]) == Decimal("9999999999.99")

    def test_ceiling_and_urgency_are_echoed_and_null_when_not_given(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        plain = get_order(client, create_order(site.creator, site.body())["id"], site.creator)
        rolling = site.body(type="rolling", ceiling_amount=700.0, urgency_justification="Crane booked for Monday")
        given = get_order(client, create_order(site.creator, rolling)["id"], site.creator)

        assert plain["ceiling_amount"] is None
        assert plain["urgency_justification"] is None
        assert given["type"] == "rolling"
        assert amount(given["ceiling_amount"]) == Decimal("700.00")
        assert given["urgency_justification"] == "Crane booked for Monday"

    @pytest.mark.parametrize(
        ("fields", "line_fields", "offending"),
        [
            pytest.param({"total_amount": 1.0}, {}, "total_amount", id="total_amount"),
            pytest.param({"subtotal": 1.0}, {}, "subtotal", id="subtotal"),
            pytest.param({"tax_amount": 0.0}, {}, "tax_amount", id="tax_amount"),
            pytest.param({"status": "approved"}, {}, "status", id="status"),
            pytest.param({"po_number": "X-PO-999"}, {}, "po_number", id="po_number"),
            pytest.param({}, {"line_total": 1.0}, "line_items[0].line_total", id="line_total"),
            pytest.param({}, {"tax_rate": 0.0}, "line_items[0].tax_rate", id="tax_rate"),
        ],
    )
    def test_amounts_and_server_fields_in_the_body_are_refused_not_trusted(
        self, client: TestClient, site: Site, fields: Json, line_fields: Json, offending: str
    ) -> None:
        body = site.body({**line(), **line_fields}, **fields)

        error = assert_error(client.post(ORDERS, json=body, headers=site.creator), 400, "VALIDATION_ERROR")

        assert offending in error["details"]["errors"]
        assert listing(client, site.creator, project_id=site.project_id)["pagination"]["total"] == 0


class TestCreationBusinessRules:
    @pytest.mark.parametrize(
        ("fields", "lines", "field"),
        [
            pytest.param({}, [line(tax_code="ZZ")], "line_items[0].tax_code", id="unknown-tax-code"),
            pytest.param({}, [line(), line(tax_code="VAT")], "line_items[1].tax_code", id="unknown-tax-code-line-2"),
            pytest.param({"cost_code": "CC-009"}, [line()], "cost_code", id="inactive-cost-code"),
            pytest.param({"cost_code": "CC-404"}, [line()], "cost_code", id="unknown-cost-code"),
            pytest.param({"ceiling_amount": 699.99}, [line()], "ceiling_amount", id="total-over-ceiling"),
            pytest.param({"type": "rolling"}, [line()], "ceiling_amount", id="rolling-without-ceiling"),
            pytest.param(
                {"type": "rolling", "ceiling_amount": None}, [line()], "ceiling_amount", id="rolling-null-ceiling"
            ),
            pytest.param({"type": "walkup"}, [line()], "urgency_justification", id="walkup-without-justification"),
            pytest.param(
                {"type": "walkup", "urgency_justification": "   "},
                [line()],
                "urgency_justification",
                id="walkup-blank-justification",
            ),
            pytest.param({}, [line(999999999.999, 9999999999.99, "EX")], "line_items[0]", id="line-over-maximum"),
            pytest.param(
                {}, [line(1, 5000000000, "EX"), line(1, 5000000000, "EX")], "line_items", id="total-over-maximum"
            ),
            pytest.param({}, [line(1, 9999999999.99, "GP")], "line_items[0]", id="tax-pushes-line-over-maximum"),
        ],
    )
    def test_a_broken_business_rule_answers_422_naming_the_field(
        self, client: TestClient, site: Site, fields: Json, lines: list[Json], field: str
    ) -> None:
        response = client.post(ORDERS, json=site.body(*lines, **fields), headers=site.creator)

        error = assert_error(response, 422, "VALIDATION_ERROR")
        assert error["details"]["field"] == field
        assert field in error["details"]["errors"]

    def test_a_failed_creation_does_not_use_up_a_number(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        refused = client.post(ORDERS, json=site.body(line(tax_code="ZZ")), headers=site.creator)
        assert refused.status_code == 422

        assert create_order(site.creator, site.body())["po_number"] == f"{site.job_number}-PO-001"

    def test_a_total_equal_to_the_ceiling_is_accepted(self, site: Site, create_order: CreateOrder) -> None:
        created = create_order(site.creator, site.body(type="rolling", ceiling_amount=700))

        assert amount(created["total_amount"]) == Decimal("700.00")

    def test_a_walkup_with_a_justification_is_accepted(self, site: Site, create_order: CreateOrder) -> None:
        created = create_order(site.creator, site.body(type="walkup", urgency_justification="Burst pipe"))

        assert created["status"] == "draft"

    def test_an_admin_cannot_order_on_an_inactive_project(self, client: TestClient, login_as: LoginAs) -> None:
        body = order_body(project_id="PRJ004", cost_code="CC-001")

        error = assert_error(client.post(ORDERS, json=body, headers=login_as("admin")), 422, "VALIDATION_ERROR")

        assert error["details"]["field"] == "project_id"
        assert "PRJ004" in error["message"]

    def test_an_admin_ordering_on_an_unknown_project_gets_422(self, client: TestClient, login_as: LoginAs) -> None:
        body = order_body(project_id="PRJ999", cost_code="CC-001")

        error = assert_error(client.post(ORDERS, json=body, headers=login_as("admin")), 422, "VALIDATION_ERROR")

        assert error["details"]["field"] == "project_id"

    def test_a_cost_code_of_another_project_is_not_one_of_this_projects(
        self, client: TestClient, login_as: LoginAs
    ) -> None:
        # CC-004 exists on PRJ001 but not on PRJ003.
        body = order_body(project_id="PRJ003", cost_code="CC-004")

        error = assert_error(client.post(ORDERS, json=body, headers=login_as("pm")), 422, "VALIDATION_ERROR")

        assert error["details"]["field"] == "cost_code"

    def test_the_demo_inactive_cost_code_is_refused(self, client: TestClient, login_as: LoginAs) -> None:
        response = client.post(ORDERS, json=order_body(cost_code="CC-005"), headers=login_as("foreman"))

        assert assert_error(response, 422, "VALIDATION_ERROR")["details"]["field"] == "cost_code"


class TestCreationPermissions:
    def test_a_project_not_among_the_callers_projects_is_forbidden(self, client: TestClient, login_as: LoginAs) -> None:
        # The demo foreman works on PRJ001 and PRJ002 only.
        response = client.post(ORDERS, json=order_body(project_id="PRJ003"), headers=login_as("foreman"))

        assert_error(response, 403, "FORBIDDEN")

    def test_a_caller_on_the_project_without_po_create_is_forbidden(
        self, client: TestClient, make_user: MakeUser
    ) -> None:
        _, headers = make_user("foreman", permissions=[])

        assert_error(client.post(ORDERS, json=order_body(), headers=headers), 403, "FORBIDDEN")

    def test_a_caller_holding_only_po_submit_may_not_create(self, client: TestClient, make_user: MakeUser) -> None:
        _, headers = make_user("foreman", permissions=["po:submit"])

        assert_error(client.post(ORDERS, json=order_body(), headers=headers), 403, "FORBIDDEN")

    def test_permission_is_checked_before_the_business_rules(self, client: TestClient, login_as: LoginAs) -> None:
        body = order_body(line(tax_code="ZZ"), project_id="PRJ003", cost_code="CC-404")

        assert_error(client.post(ORDERS, json=body, headers=login_as("foreman")), 403, "FORBIDDEN")

    def test_without_a_token_creation_is_unauthorized(self, client: TestClient) -> None:
        assert_error(client.post(ORDERS, json=order_body()), 401, "UNAUTHORIZED")


class TestMalformedBodies:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            pytest.param(lambda body: body.pop("line_items"), "line_items", id="missing-line-items"),
            pytest.param(lambda body: body.update(line_items=[]), "line_items", id="empty-line-items"),
            pytest.param(lambda body: body.pop("vendor_name"), "vendor_name", id="missing-vendor"),
            pytest.param(lambda body: body.update(type="monthly"), "type", id="unknown-type"),
            pytest.param(
                lambda body: body["line_items"][0].update(quantity=0), "line_items[0].quantity", id="zero-quantity"
            ),
            pytest.param(
                lambda body: body["line_items"][0].update(quantity=-1),
                "line_items[0].quantity",
                id="negative-quantity",
            ),
            pytest.param(
                lambda body: body["line_items"][0].update(unit_price=-0.01),
                "line_items[0].unit_price",
                id="negative-price",
            ),
            pytest.param(
                lambda body: body["line_items"][0].update(unit_price="12.50"),
                "line_items[0].unit_price",
                id="price-as-string",
            ),
            pytest.param(
                lambda body: body["line_items"][0].pop("tax_code"), "line_items[0].tax_code", id="missing-tax-code"
            ),
            pytest.param(lambda body: body.update(ceiling_amount=-1), "ceiling_amount", id="negative-ceiling"),
            pytest.param(lambda body: body.update(vendor_email="not-an-email"), "vendor_email", id="bad-email"),
        ],
    )
    def test_a_malformed_body_answers_400_listing_the_invalid_field(
        self, client: TestClient, site: Site, change: Callable[[Json], Any], field: str
    ) -> None:
        body = site.body()
        change(body)

        error = assert_error(client.post(ORDERS, json=body, headers=site.creator), 400, "VALIDATION_ERROR")

        assert field in error["details"]["errors"], error
        assert error["details"]["field"] in error["details"]["errors"]

    def test_a_zero_quantity_is_told_it_must_be_greater_than_zero(self, client: TestClient, site: Site) -> None:
        # quantity has minimum 0 with exclusiveMinimum: 0 itself is refused, so "or equal" would mislead
        body = site.body(line(quantity=0))

        error = assert_error(client.post(ORDERS, json=body, headers=site.creator), 400, "VALIDATION_ERROR")

        [message] = error["details"]["errors"]["line_items[0].quantity"]
        assert "greater than 0" in message
        assert "or equal" not in message

    def test_a_body_that_is_not_json_answers_400(self, client: TestClient, site: Site) -> None:
        headers = {**site.creator, "Content-Type": "application/json"}

        error = assert_error(client.post(ORDERS, content=b'{"type": ', headers=headers), 400, "VALIDATION_ERROR")

        assert error["details"]["errors"]


# Reading -----------------------------------------------------------------------------------


class TestReading:
    def test_the_detail_has_lines_files_history_and_the_creator_with_role(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(), line(2, 5, "EX", "Hangers")))

        order = get_order(client, created["id"], site.creator)

        assert order["id"] == created["id"]
        assert order["status"] == "draft"
        assert order["project_id"] == site.project_id
        assert order["cost_code"] == "CC-001"
        assert order["vendor_name"] == "ABC Supply Co."
        assert order["vendor_address"] == "123 Main St, City, State 12345"
        assert [item["line_number"] for item in order["line_items"]] == [1, 2]
        assert order["files"] == []
        assert order["approval_history"] == []
        assert order["created_by"] == {"id": site.foreman.id, "name": "Fiona Foreman", "role": "foreman"}
        for absent in ("submitted_by", "approved_by", "rejection_reason", "cancelled_by", "closed_by"):
            assert absent not in order

    def test_a_colleague_on_the_project_can_read_it(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())

        assert get_order(client, created["id"], site.colleague)["po_number"] == created["po_number"]

    def test_an_order_on_a_project_the_caller_is_not_on_is_not_found(
        self, client: TestClient, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        _, on_prj002 = make_user("foreman", projects=("PRJ002",))
        _, on_prj001 = make_user("foreman", projects=("PRJ001",))
        created = create_order(on_prj002, order_body(project_id="PRJ002", cost_code="CC-001"))

        assert_error(client.get(f"{ORDERS}/{created['id']}", headers=on_prj001), 404, "NOT_FOUND")

    def test_an_admin_reads_an_order_on_any_project(
        self, client: TestClient, site: Site, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        _, admin = make_user("admin", projects=())
        created = create_order(site.creator, site.body())

        assert get_order(client, created["id"], admin)["id"] == created["id"]

    def test_an_unknown_order_is_not_found(self, client: TestClient, login_as: LoginAs) -> None:
        assert_error(client.get(f"{ORDERS}/987654321", headers=login_as("admin")), 404, "NOT_FOUND")

    def test_a_non_numeric_id_is_a_bad_request(self, client: TestClient, login_as: LoginAs) -> None:
        assert_error(client.get(f"{ORDERS}/abc", headers=login_as("admin")), 400, "VALIDATION_ERROR")


# Replacing -----------------------------------------------------------------------------------


class TestReplacing:
    def test_put_replaces_the_fields_and_lines_and_recomputes_the_amounts(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(), line(2, 5, "EX", "Hangers")))
        replacement = site.body(
            line(4, 10.05, "GP", "Joist hangers"), cost_code="CC-002", vendor_name="Evergreen Lumber"
        )

        response = client.put(f"{ORDERS}/{created['id']}", json=replacement, headers=site.creator)

        assert response.status_code == 200, response.text
        order = response.json()
        assert order["status"] == "draft"
        assert order["po_number"] == created["po_number"]
        assert order["cost_code"] == "CC-002"
        assert order["vendor_name"] == "Evergreen Lumber"
        [item] = order["line_items"]
        assert (item["line_number"], item["description"]) == (1, "Joist hangers")
        assert amount(order["subtotal"]) == Decimal("40.20")
        assert amount(order["tax_amount"]) == Decimal("4.82")  # 4.824
        assert amount(order["total_amount"]) == Decimal("45.02")
        assert get_order(client, created["id"], site.creator) == order

    def test_put_is_a_full_replacement_that_clears_omitted_optional_fields(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(ceiling_amount=1000, urgency_justification="Soon"))
        replacement = site.body()
        for optional in ("vendor_contact_name", "vendor_email", "vendor_phone", "vendor_address"):
            del replacement[optional]

        response = client.put(f"{ORDERS}/{created['id']}", json=replacement, headers=site.creator)

        assert response.status_code == 200, response.text
        order = response.json()
        assert order["ceiling_amount"] is None
        assert order["urgency_justification"] is None
        assert order["vendor_email"] is None

    def test_only_the_creator_may_edit(
        self, client: TestClient, site: Site, create_order: CreateOrder, make_user: MakeUser
    ) -> None:
        _, admin = make_user("admin", projects=())
        created = create_order(site.creator, site.body())

        for other in (site.colleague, admin):
            response = client.put(f"{ORDERS}/{created['id']}", json=site.body(line(1, 1)), headers=other)
            assert_error(response, 403, "FORBIDDEN")
        assert amount(get_order(client, created["id"], site.creator)["total_amount"]) == Decimal("700.00")

    def test_a_submitted_order_cannot_be_edited(
        self, client: TestClient, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        _, creator = make_user("foreman")
        created = create_order(creator, order_body())
        submit_to_demo_approver(client, created["id"], creator)

        response = client.put(f"{ORDERS}/{created['id']}", json=order_body(line(1, 1)), headers=creator)

        assert assert_error(response, 403, "FORBIDDEN")["details"]["status"] == "submitted"

    def test_moving_a_draft_to_another_project_gives_it_that_projects_next_number(
        self, client: TestClient, site: Site, idl_db: Database, database: Settings, create_order: CreateOrder
    ) -> None:
        other_project, other_job = import_project(idl_db, database)
        assign(idl_db, database, other_project, site.foreman)
        create_order(site.creator, site.body(project_id=other_project))
        created = create_order(site.creator, site.body())
        moved = site.body(project_id=other_project)

        response = client.put(f"{ORDERS}/{created['id']}", json=moved, headers=site.creator)

        assert response.status_code == 200, response.text
        assert created["po_number"] == f"{site.job_number}-PO-001"
        assert response.json()["po_number"] == f"{other_job}-PO-002"
        assert response.json()["project_id"] == other_project

    def test_staying_on_the_project_keeps_the_number(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())

        response = client.put(f"{ORDERS}/{created['id']}", json=site.body(line(2, 2)), headers=site.creator)

        assert response.json()["po_number"] == created["po_number"]
        assert create_order(site.creator, site.body())["po_number"] == f"{site.job_number}-PO-002"

    def test_moving_to_a_project_the_caller_is_not_on_is_forbidden(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())

        response = client.put(f"{ORDERS}/{created['id']}", json=order_body(), headers=site.creator)

        assert_error(response, 403, "FORBIDDEN")
        assert get_order(client, created["id"], site.creator)["project_id"] == site.project_id

    def test_a_refused_replacement_leaves_the_order_as_it_was(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body(line(), line(2, 5, "EX", "Hangers")))
        before = get_order(client, created["id"], site.creator)

        response = client.put(
            f"{ORDERS}/{created['id']}", json=site.body(line(1, 1, "ZZ"), vendor_name="X"), headers=site.creator
        )

        assert assert_error(response, 422, "VALIDATION_ERROR")["details"]["field"] == "line_items[0].tax_code"
        assert get_order(client, created["id"], site.creator) == before

    def test_replacing_an_order_the_caller_cannot_see_is_not_found(
        self, client: TestClient, site: Site, create_order: CreateOrder, login_as: LoginAs
    ) -> None:
        created = create_order(site.creator, site.body())

        response = client.put(f"{ORDERS}/{created['id']}", json=order_body(), headers=login_as("foreman"))

        assert_error(response, 404, "NOT_FOUND")

    def test_replacing_an_unknown_order_is_not_found(self, client: TestClient, site: Site) -> None:
        assert_error(client.put(f"{ORDERS}/987654321", json=site.body(), headers=site.creator), 404, "NOT_FOUND")

    def test_a_malformed_replacement_answers_400(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())
        body = site.body(total_amount=1)

        error = assert_error(
            client.put(f"{ORDERS}/{created['id']}", json=body, headers=site.creator), 400, "VALIDATION_ERROR"
        )

        assert "total_amount" in error["details"]["errors"]


# Deleting ------------------------------------------------------------------------------------


class TestDeleting:
    def test_delete_soft_deletes_a_draft_which_then_is_neither_found_nor_listed(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())

        response = client.delete(f"{ORDERS}/{created['id']}", headers=site.creator)

        assert response.status_code == 204
        assert response.content == b""
        assert_error(client.get(f"{ORDERS}/{created['id']}", headers=site.creator), 404, "NOT_FOUND")
        assert listing(client, site.creator, project_id=site.project_id)["data"] == []
        assert listing(client, site.creator, search=created["po_number"])["data"] == []
        assert_error(client.delete(f"{ORDERS}/{created['id']}", headers=site.creator), 404, "NOT_FOUND")

    def test_a_deleted_orders_number_is_not_reused(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())
        assert client.delete(f"{ORDERS}/{created['id']}", headers=site.creator).status_code == 204

        assert create_order(site.creator, site.body())["po_number"] == f"{site.job_number}-PO-002"

    def test_only_a_draft_can_be_deleted(
        self, client: TestClient, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        _, creator = make_user("foreman")
        created = create_order(creator, order_body())
        submit_to_demo_approver(client, created["id"], creator)

        response = client.delete(f"{ORDERS}/{created['id']}", headers=creator)

        assert assert_error(response, 403, "FORBIDDEN")["details"]["status"] == "submitted"
        assert get_order(client, created["id"], creator)["status"] == "submitted"

    def test_only_the_creator_may_delete(
        self, client: TestClient, site: Site, create_order: CreateOrder, make_user: MakeUser
    ) -> None:
        _, admin = make_user("admin", projects=())
        created = create_order(site.creator, site.body())

        for other in (site.colleague, admin):
            assert_error(client.delete(f"{ORDERS}/{created['id']}", headers=other), 403, "FORBIDDEN")
        assert get_order(client, created["id"], site.creator)["status"] == "draft"

    def test_deleting_an_order_the_caller_cannot_see_is_not_found(
        self, client: TestClient, site: Site, create_order: CreateOrder, login_as: LoginAs
    ) -> None:
        created = create_order(site.creator, site.body())

        assert_error(client.delete(f"{ORDERS}/{created['id']}", headers=login_as("foreman")), 404, "NOT_FOUND")


# Listing -------------------------------------------------------------------------------------


class TestListing:
    def test_pages_carry_the_pagination_envelope(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        for _ in range(3):
            create_order(site.creator, site.body())

        first = listing(client, site.creator, project_id=site.project_id, limit=2)
        second = listing(client, site.creator, project_id=site.project_id, limit=2, page=2)
        past = listing(client, site.creator, project_id=site.project_id, limit=2, page=3)

        assert first["pagination"] == {
            "page": 1,
            "limit": 2,
            "total": 3,
            "pages": 2,
            "has_next": True,
            "has_prev": False,
        }
        assert second["pagination"] == {
            "page": 2,
            "limit": 2,
            "total": 3,
            "pages": 2,
            "has_next": False,
            "has_prev": True,
        }
        assert len(first["data"]) == 2
        assert len(second["data"]) == 1
        assert past["data"] == []
        assert past["pagination"]["has_prev"] is True
        assert set(numbers_of(first)) | set(numbers_of(second)) == {f"{site.job_number}-PO-{n:03d}" for n in (1, 2, 3)}

    def test_an_empty_list_has_no_pages(self, client: TestClient, site: Site) -> None:
        page = listing(client, site.creator, project_id=site.project_id)

        assert page == {
            "data": [],
            "pagination": {"page": 1, "limit": 20, "total": 0, "pages": 0, "has_next": False, "has_prev": False},
        }

    def test_a_limit_over_100_is_refused(self, client: TestClient, site: Site) -> None:
        assert_error(client.get(ORDERS, params={"limit": 101}, headers=site.creator), 400, "VALIDATION_ERROR")

    def test_the_newest_order_comes_first(self, client: TestClient, site: Site, create_order: CreateOrder) -> None:
        created = [create_order(site.creator, site.body())["id"] for _ in range(3)]

        page = listing(client, site.creator, project_id=site.project_id)

        assert [order["id"] for order in page["data"]] == created[::-1]
        stamps = [order["created_at"] for order in page["data"]]
        assert stamps == sorted(stamps, reverse=True)

    def test_the_summary_shows_amounts_line_count_and_creator(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        create_order(site.creator, site.body(line(), line(1, 10.05, "GP", "Nails")))

        [summary] = listing(client, site.creator, project_id=site.project_id)["data"]

        assert summary["line_items_count"] == 2
        assert amount(summary["total_amount"]) == Decimal("711.26")
        assert summary["created_by"] == {"id": site.foreman.id, "name": "Fiona Foreman", "role": "foreman"}
        assert "line_items" not in summary

    def test_status_filter(
        self, client: TestClient, make_user: MakeUser, idl_db: Database, database: Settings, create_order: CreateOrder
    ) -> None:
        project_id, _ = import_project(idl_db, database)
        _, creator = make_user("foreman", projects=(project_id,))
        make_user("super", projects=(project_id,))
        body = order_body(project_id=project_id)
        draft = create_order(creator, body)
        submitted = create_order(creator, body)
        submit_to_demo_approver(client, submitted["id"], creator)

        drafts = listing(client, creator, project_id=project_id, status="draft")
        submissions = listing(client, creator, project_id=project_id, status="submitted")

        assert numbers_of(drafts) == [draft["po_number"]]
        assert numbers_of(submissions) == [submitted["po_number"]]
        assert submissions["data"][0]["submitted_by"]["name"] == "Test Foreman"
        assert listing(client, creator, project_id=project_id, status="approved")["data"] == []

    def test_an_unknown_status_is_refused(self, client: TestClient, site: Site) -> None:
        assert_error(client.get(ORDERS, params={"status": "done"}, headers=site.creator), 400, "VALIDATION_ERROR")

    def test_type_filter(self, client: TestClient, site: Site, create_order: CreateOrder) -> None:
        standard = create_order(site.creator, site.body())
        rolling = create_order(site.creator, site.body(type="rolling", ceiling_amount=5000))
        walkup = create_order(site.creator, site.body(type="walkup", urgency_justification="Now"))

        for kind, created in (("standard", standard), ("rolling", rolling), ("walkup", walkup)):
            page = listing(client, site.creator, project_id=site.project_id, type=kind)
            assert numbers_of(page) == [created["po_number"]], kind

    def test_project_filter(
        self, client: TestClient, site: Site, idl_db: Database, database: Settings, create_order: CreateOrder
    ) -> None:
        other_project, _ = import_project(idl_db, database)
        assign(idl_db, database, other_project, site.foreman)
        here = create_order(site.creator, site.body())
        there = create_order(site.creator, site.body(project_id=other_project))

        assert numbers_of(listing(client, site.creator, project_id=site.project_id)) == [here["po_number"]]
        assert numbers_of(listing(client, site.creator, project_id=other_project)) == [there["po_number"]]

    def test_created_by_filter(self, client: TestClient, site: Site, create_order: CreateOrder) -> None:
        mine = create_order(site.creator, site.body())
        create_order(site.colleague, site.body())

        page = listing(client, site.colleague, project_id=site.project_id, created_by=site.foreman.id)

        assert numbers_of(page) == [mine["po_number"]]
        assert listing(client, site.creator, project_id=site.project_id)["pagination"]["total"] == 2

    def test_date_filters_are_inclusive_calendar_days_of_creation(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        created = create_order(site.creator, site.body())
        day = date.fromisoformat(created["created_at"][:10])
        before, after = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()

        def found(**dates: str) -> list[str]:
            return numbers_of(listing(client, site.creator, project_id=site.project_id, **dates))

        assert found(date_from=day.isoformat(), date_to=day.isoformat()) == [created["po_number"]]
        assert found(date_from=before, date_to=after) == [created["po_number"]]
        assert found(date_from=after) == []
        assert found(date_to=before) == []

    def test_date_from_after_date_to_matches_nothing(self, client: TestClient, site: Site) -> None:
        params = {"date_from": "2025-07-31", "date_to": "2025-07-01"}

        response = client.get(ORDERS, params=params, headers=site.creator)

        assert response.status_code == 200
        assert response.json()["data"] == []
        assert response.json()["pagination"]["total"] == 0

    def test_a_date_that_is_not_a_date_is_refused(self, client: TestClient, site: Site) -> None:
        response = client.get(ORDERS, params={"date_from": "2025-13-45"}, headers=site.creator)

        assert_error(response, 400, "VALIDATION_ERROR")

    def test_search_matches_the_po_number_case_insensitively(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        first = create_order(site.creator, site.body())
        create_order(site.creator, site.body())

        page = listing(client, site.creator, search=first["po_number"].lower())

        assert numbers_of(page) == [first["po_number"]]

    def test_search_matches_the_vendor_name_case_insensitively(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        wanted = create_order(site.creator, site.body(vendor_name="Quarrystone Aggregates"))
        create_order(site.creator, site.body(vendor_name="ABC Supply Co."))

        page = listing(client, site.creator, project_id=site.project_id, search="QUARRYSTONE agg")

        assert numbers_of(page) == [wanted["po_number"]]

    def test_search_matches_a_line_description_once_per_order(
        self, client: TestClient, site: Site, create_order: CreateOrder
    ) -> None:
        hangers = line(description="Galvanized Joist Hanger 2x10")
        wanted = create_order(
            site.creator, site.body(line(), hangers, {**hangers, "description": "Joist hanger nails"})
        )
        create_order(site.creator, site.body())

        page = listing(client, site.creator, project_id=site.project_id, search="joist HANGER")

        assert numbers_of(page) == [wanted["po_number"]]
        assert page["pagination"]["total"] == 1

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            pytest.param("100%", ["100% Lumber_Co"], id="percent-is-literal"),
            pytest.param("r_c", ["100% Lumber_Co"], id="underscore-is-literal"),
            pytest.param("100", ["100% Lumber_Co", "1000 Lumber Co"], id="plain-text-matches-both"),
            pytest.param("%", ["100% Lumber_Co"], id="lone-percent"),
            pytest.param("_", ["100% Lumber_Co"], id="lone-underscore"),
        ],
    )
    def test_search_treats_percent_and_underscore_literally(
        self, client: TestClient, site: Site, create_order: CreateOrder, search: str, expected: list[str]
    ) -> None:
        for vendor in ("100% Lumber_Co", "1000 Lumber Co"):
            create_order(site.creator, site.body(vendor_name=vendor))

        page = listing(client, site.creator, project_id=site.project_id, search=search)

        assert sorted(order["vendor_name"] for order in page["data"]) == expected

    def test_an_empty_search_does_not_filter(self, client: TestClient, site: Site, create_order: CreateOrder) -> None:
        create_order(site.creator, site.body())

        assert listing(client, site.creator, project_id=site.project_id, search="")["pagination"]["total"] == 1

    def test_filters_combine_with_and(self, client: TestClient, site: Site, create_order: CreateOrder) -> None:
        wanted = create_order(site.creator, site.body(type="rolling", ceiling_amount=900, vendor_name="Northwind"))
        create_order(site.creator, site.body(vendor_name="Northwind"))
        create_order(site.colleague, site.body(type="rolling", ceiling_amount=900, vendor_name="Northwind"))

        page = listing(
            client,
            site.creator,
            project_id=site.project_id,
            type="rolling",
            search="northwind",
            created_by=site.foreman.id,
        )

        assert numbers_of(page) == [wanted["po_number"]]

    def test_only_orders_of_the_callers_projects_are_listed_but_an_admin_sees_all(
        self, client: TestClient, idl_db: Database, database: Settings, make_user: MakeUser, create_order: CreateOrder
    ) -> None:
        project_a, _ = import_project(idl_db, database)
        project_b, _ = import_project(idl_db, database)
        _, on_a = make_user("foreman", projects=(project_a,))
        _, on_b = make_user("foreman", projects=(project_b,))
        _, admin = make_user("admin", projects=())
        order_a = create_order(on_a, order_body(project_id=project_a))
        order_b = create_order(on_b, order_body(project_id=project_b))

        mine = listing(client, on_a, limit=100)
        assert order_a["po_number"] in numbers_of(mine)
        assert all(order["project_id"] != project_b for order in mine["data"])
        assert listing(client, on_a, project_id=project_b)["data"] == []
        assert listing(client, on_a, search=order_b["po_number"])["data"] == []
        assert numbers_of(listing(client, admin, project_id=project_b)) == [order_b["po_number"]]
        assert numbers_of(listing(client, admin, project_id=project_a)) == [order_a["po_number"]]

    def test_the_demo_foreman_sees_only_prj001_and_prj002(self, client: TestClient, login_as: LoginAs) -> None:
        page = listing(client, login_as("foreman"), limit=100)

        assert page["data"]
        assert {order["project_id"] for order in page["data"]} <= {"PRJ001", "PRJ002"}


# Audit trail ---------------------------------------------------------------------------------


@pytest.fixture
def remote(app: App) -> TestClient:
    """A client calling from a known address, to see it in the audit trail."""
    return TestClient(app, client=(CLIENT_ADDRESS, 4711))


def audit_of(client: TestClient, admin: Headers, order_id: int, action: str) -> Json:
    params = {"entity_type": "purchase_order", "entity_id": str(order_id), "action": action}
    response = client.get(f"{BASE}/audit-logs", params=params, headers=admin)
    assert response.status_code == 200, response.text
    [entry] = response.json()["data"]
    assert isinstance(entry, dict)
    return entry


class TestAuditTrail:
    def test_creation_is_audited_with_the_new_values_actor_and_address(
        self, remote: TestClient, site: Site, login_as: LoginAs
    ) -> None:
        response = remote.post(ORDERS, json=site.body(), headers=site.creator)
        created = response.json()

        entry = audit_of(remote, login_as("admin"), created["id"], "created")

        assert entry["entity_type"] == "purchase_order"
        assert entry["entity_id"] == str(created["id"])
        assert entry["user"] == {"id": site.foreman.id, "name": "Fiona Foreman", "role": "foreman"}
        assert entry["old_values"] is None
        assert entry["new_values"]["po_number"] == created["po_number"]
        assert entry["new_values"]["status"] == "draft"
        assert amount(entry["new_values"]["total_amount"]) == Decimal("700.00")
        assert entry["new_values"]["project_id"] == site.project_id
        assert entry["ip_address"] == CLIENT_ADDRESS

    def test_replacement_is_audited_with_old_and_new_values(
        self, remote: TestClient, site: Site, login_as: LoginAs
    ) -> None:
        created = remote.post(ORDERS, json=site.body(), headers=site.creator).json()
        replacement = site.body(line(100, 12.5), vendor_name="Evergreen Lumber")
        assert remote.put(f"{ORDERS}/{created['id']}", json=replacement, headers=site.creator).status_code == 200

        entry = audit_of(remote, login_as("admin"), created["id"], "updated")

        assert amount(entry["old_values"]["total_amount"]) == Decimal("700.00")
        assert amount(entry["new_values"]["total_amount"]) == Decimal("1400.00")
        assert entry["old_values"]["vendor_name"] == "ABC Supply Co."
        assert entry["new_values"]["vendor_name"] == "Evergreen Lumber"
        assert entry["old_values"]["status"] == entry["new_values"]["status"] == "draft"
        assert entry["user"]["id"] == site.foreman.id
        assert entry["ip_address"] == CLIENT_ADDRESS

    def test_deletion_is_audited_with_the_old_values(self, remote: TestClient, site: Site, login_as: LoginAs) -> None:
        created = remote.post(ORDERS, json=site.body(), headers=site.creator).json()
        assert remote.delete(f"{ORDERS}/{created['id']}", headers=site.creator).status_code == 204

        entry = audit_of(remote, login_as("admin"), created["id"], "deleted")

        assert entry["new_values"] is None
        assert entry["old_values"]["po_number"] == created["po_number"]
        assert entry["old_values"]["status"] == "draft"
        assert entry["user"]["id"] == site.foreman.id
        assert entry["ip_address"] == CLIENT_ADDRESS

    def test_a_refused_change_leaves_no_audit_entry(
        self, client: TestClient, site: Site, create_order: CreateOrder, login_as: LoginAs
    ) -> None:
        created = create_order(site.creator, site.body())
        assert client.put(f"{ORDERS}/{created['id']}", json=site.body(), headers=site.colleague).status_code == 403
        assert client.delete(f"{ORDERS}/{created['id']}", headers=site.colleague).status_code == 403

        params = {"entity_type": "purchase_order", "entity_id": str(created["id"])}
        response = client.get(f"{BASE}/audit-logs", params=params, headers=login_as("admin"))

        assert [entry["action"] for entry in response.json()["data"]] == ["created"]
