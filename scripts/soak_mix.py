"""The request mix of `make soak` (scripts/soak): what a real client of each of the five APIs does.

Each API is a client with its own state (its credentials, renewed the way its partner
renews them, and the ids of what it created), offering weighted operations. Each operation
builds one request and says which statuses it expects: the mix's writes are undone by later
operations where the API allows it (an order created is deleted again), and a few requests
are meant to be refused (an unknown id, a missing token, a bad signature), so that the
refusal paths soak too.

The weights give each API about a fifth of the requests; token requests come every few
seconds and logins every half minute or so, as a handful of partners would send them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

OK = frozenset({200})
CREATED = frozenset({201})
NO_CONTENT = frozenset({204})
JSON = {"Content-Type": "application/json"}
RNG = random.Random(1)  # noqa: S311 - the mix's choices, no secret; seeded (Mix reseeds it) so runs repeat


@dataclass(frozen=True)
class Call:
    """One request of the mix, the statuses it expects, and what its client learns from the answer."""

    label: str
    method: str
    path: str
    expected: frozenset[int]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    on_answer: Callable[[Any], None] | None = None  # called with the JSON of an expected answer


@dataclass(frozen=True)
class Operation:
    label: str
    weight: float
    build: Callable[[], Call]


def body_of(document: Any) -> bytes:
    return json.dumps(document).encode()


class OrderAccept:
    """A shop customer (alice): browses products, places orders and deletes some again."""

    BASE = "/order-accept/api"

    def __init__(self, credentials: dict[str, Any]) -> None:
        self.authorization = credentials["order_accept"]["alice"]["authorization"]
        self.orders: deque[int] = deque()
        self.serial = itertools.count(1)

    def renew(self, credentials: dict[str, Any]) -> None:
        """A fresh token from the identity provider (the demo ones live an hour)."""
        self.authorization = credentials["order_accept"]["alice"]["authorization"]

    def auth(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def operations(self) -> list[Operation]:
        return [
            Operation("order_accept list products", 6, self.list_products),
            Operation("order_accept get product", 5, self.get_product),
            Operation("order_accept list orders", 4, self.list_orders),
            Operation("order_accept create order", 3, self.create_order),
            Operation("order_accept delete order", 2.5, self.delete_order),
            Operation("order_accept unknown product (404)", 0.5, self.unknown_product),
            Operation("order_accept no token (401)", 0.5, self.no_token),
        ]

    def list_products(self) -> Call:
        offset = RNG.choice((0, 0, 5, 10))
        return Call(
            "order_accept list products", "GET", f"{self.BASE}/products?offset={offset}&size=10", OK, self.auth()
        )

    def get_product(self) -> Call:
        product = RNG.choice(("AZ-700", "CKA"))
        return Call("order_accept get product", "GET", f"{self.BASE}/products/{product}", OK, self.auth())

    def list_orders(self) -> Call:
        return Call("order_accept list orders", "GET", f"{self.BASE}/orders?offset=0&size=5", OK, self.auth())

    def create_order(self) -> Call:
        lines = [{"productId": "AZ-700", "quantity": 1 + next(self.serial) % 3}, {"productId": "CKA", "quantity": 1}]
        headers = {**self.auth(), **JSON, "Idempotency-Key": f"soak-{uuid.uuid4()}"}
        return Call(
            "order_accept create order",
            "POST",
            f"{self.BASE}/orders",
            CREATED,
            headers,
            body_of({"items": lines}),
            lambda order: self.orders.append(int(order["id"])),
        )

    def delete_order(self) -> Call:
        if not self.orders:
            return self.list_orders()
        order_id = self.orders.popleft()
        return Call("order_accept delete order", "DELETE", f"{self.BASE}/orders/{order_id}", NO_CONTENT, self.auth())

    def unknown_product(self) -> Call:
        path = f"{self.BASE}/products/NO-SUCH-PRODUCT"
        return Call("order_accept unknown product (404)", "GET", path, frozenset({404}), self.auth())

    def no_token(self) -> Call:
        return Call("order_accept no token (401)", "GET", f"{self.BASE}/products?offset=0&size=10", frozenset({401}))


class Idl:
    """A foreman's purchase-order tool: lists and raises draft P/Os (deleting some again),
    refreshes its session, and now and then another user logs in and out again."""

    BASE = "/idl/api/v1"

    def __init__(self, credentials: dict[str, Any]) -> None:
        users = credentials["idl"]
        self.foreman = {"email": users["foreman"]["email"], "password": users["foreman"]["password"]}
        self.visitor = {"email": users["pm"]["email"], "password": users["pm"]["password"]}
        self.authorization = users["foreman"]["authorization"]
        self.refresh_token: str | None = None  # from the first login (prepare)
        self.refresh_sent: float | None = None  # while a refresh is unanswered
        self.orders: deque[int] = deque()
        self.visitors: deque[str] = deque()  # access tokens of logged-in visitors, to log out

    def prepare(self) -> Call:
        """The foreman's login, before the run: it gives the refresh token the mix rotates."""
        return Call("idl login", "POST", f"{self.BASE}/auth/login", OK, JSON, body_of(self.foreman), self.signed_in)

    def signed_in(self, tokens: Any) -> None:
        self.authorization = f"Bearer {tokens['access_token']}"
        self.refresh_token = tokens["refresh_token"]
        self.refresh_sent = None

    def auth(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def operations(self) -> list[Operation]:
        return [
            Operation("idl list purchase orders", 5, self.list_orders),
            Operation("idl create purchase order", 2.5, self.create_order),
            Operation("idl get purchase order", 2, self.get_order),
            Operation("idl delete purchase order", 2, self.delete_order),
            Operation("idl projects, vendors, me", 3, self.reference_data),
            Operation("idl refresh session", 0.1, self.refresh),
            Operation("idl login", 0.07, self.login),
            Operation("idl logout", 0.07, self.logout),
            Operation("idl unknown purchase order (404)", 0.5, self.unknown_order),
        ]

    def list_orders(self) -> Call:
        return Call("idl list purchase orders", "GET", f"{self.BASE}/purchase-orders?page=1&limit=10", OK, self.auth())

    def create_order(self) -> Call:
        order = {
            "type": "standard",
            "project_id": "PRJ001",
            "cost_code": "CC-001",
            "vendor_name": "ABC Supply Co.",
            "line_items": [
                {
                    "description": "2x4 Lumber - 8ft",
                    "quantity": RNG.randint(1, 50),
                    "unit": "pcs",
                    "unit_price": 12.5,
                    "category": "MA",
                    "tax_code": "GP",
                }
            ],
        }
        return Call(
            "idl create purchase order",
            "POST",
            f"{self.BASE}/purchase-orders",
            CREATED,
            {**self.auth(), **JSON},
            body_of(order),
            lambda created: self.orders.append(int(created["id"])),
        )

    def get_order(self) -> Call:
        if len(self.orders) < 2:  # the newest, while a delete takes the oldest
            return self.list_orders()
        return Call("idl get purchase order", "GET", f"{self.BASE}/purchase-orders/{self.orders[-1]}", OK, self.auth())

    def delete_order(self) -> Call:
        if len(self.orders) < 2:
            return self.list_orders()
        path = f"{self.BASE}/purchase-orders/{self.orders.popleft()}"
        return Call("idl delete purchase order", "DELETE", path, NO_CONTENT, self.auth())

    def reference_data(self) -> Call:
        path = RNG.choice(("/projects", "/projects/PRJ001/cost-codes", "/vendors", "/users/me"))
        return Call("idl projects, vendors, me", "GET", self.BASE + path, OK, self.auth())

    def refresh(self) -> Call:
        """A new token pair; one refresh at a time, since each refresh token works once (one
        unanswered for a minute has failed, and been reported: try again)."""
        waiting = self.refresh_sent is not None and time.monotonic() - self.refresh_sent < 60
        if waiting or self.refresh_token is None:
            return self.list_orders()
        self.refresh_sent = time.monotonic()
        body = body_of({"refresh_token": self.refresh_token})
        return Call("idl refresh session", "POST", f"{self.BASE}/auth/refresh", OK, JSON, body, self.signed_in)

    def login(self) -> Call:
        """Another user signs in (an Argon2 check) and signs out later (`logout`)."""
        return Call(
            "idl login",
            "POST",
            f"{self.BASE}/auth/login",
            OK,
            JSON,
            body_of(self.visitor),
            lambda tokens: self.visitors.append(tokens["access_token"]),
        )

    def logout(self) -> Call:
        if not self.visitors:
            return self.list_orders()
        headers = {"Authorization": f"Bearer {self.visitors.popleft()}"}
        return Call("idl logout", "POST", f"{self.BASE}/auth/logout", OK, headers)

    def unknown_order(self) -> Call:
        path = f"{self.BASE}/purchase-orders/999999999"
        return Call("idl unknown purchase order (404)", "GET", path, frozenset({404}), self.auth())


class Mihwar:
    """An ERP of the demo roaster: reads inventory, orders and predictions, and posts small
    order-history batches with an Idempotency-Key (sometimes retrying one, which replays)."""

    BASE = "/mihwar/api/integrations/v1"
    SKUS = ("COF-1KG", "COF-ESP-1KG", "MLK-OAT-1L", "MLK-FULL-1L", "CUP-12OZ-50", "TEA-EG-100")

    def __init__(self, credentials: dict[str, Any]) -> None:
        self.authorization = credentials["mihwar"]["acme-coffee"]["authorization"]
        self.sent: deque[tuple[str, bytes]] = deque(maxlen=20)  # recent (key, body), for retries
        self.serial = itertools.count(1)

    def auth(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def operations(self) -> list[Operation]:
        return [
            Operation("mihwar list items", 5, self.list_items),
            Operation("mihwar search items", 2, self.search_items),
            Operation("mihwar list orders", 4, self.list_orders),
            Operation("mihwar predictions", 2, self.predictions),
            Operation("mihwar ingest order lines", 1, self.ingest),
            Operation("mihwar retry ingestion (replay)", 0.5, self.retry_ingestion),
            Operation("mihwar bad api key (401)", 0.5, self.bad_key),
        ]

    def list_items(self) -> Call:
        return Call("mihwar list items", "GET", f"{self.BASE}/inventory/items?limit=20", OK, self.auth())

    def search_items(self) -> Call:
        term = RNG.choice(("tea", "coffee", "milk", "cup"))
        return Call("mihwar search items", "GET", f"{self.BASE}/inventory/items?search={term}", OK, self.auth())

    def list_orders(self) -> Call:
        return Call("mihwar list orders", "GET", f"{self.BASE}/orders?limit=5", OK, self.auth())

    def predictions(self) -> Call:
        return Call("mihwar predictions", "GET", f"{self.BASE}/predictions?limit=8", OK, self.auth())

    def ingest(self) -> Call:
        serial = next(self.serial)
        day = datetime.now(UTC).date() - timedelta(days=serial % 60)
        lines = [
            {"sku": sku, "orderedQty": 1 + (serial + index) % 9, "orderDate": day.isoformat(), "deliveredQty": 1}
            for index, sku in enumerate(RNG.sample(self.SKUS, 3))
        ]
        key = f"soak-{uuid.uuid4()}"
        body = body_of({"periodKind": "DAY", "externalSourceId": f"SOAK-{serial}", "lines": lines})
        headers = {**self.auth(), **JSON, "Idempotency-Key": key}
        return Call(
            "mihwar ingest order lines",
            "POST",
            f"{self.BASE}/ingestion/order-lines",
            CREATED,
            headers,
            body,
            lambda _answer: self.sent.append((key, body)),
        )

    def retry_ingestion(self) -> Call:
        """The same key and body as an earlier batch: the first answer again, nothing inserted."""
        if not self.sent:
            return self.list_items()
        key, body = RNG.choice(self.sent)
        headers = {**self.auth(), **JSON, "Idempotency-Key": key}
        path = f"{self.BASE}/ingestion/order-lines"
        return Call("mihwar retry ingestion (replay)", "POST", path, CREATED, headers, body)

    def bad_key(self) -> Call:
        headers = {"Authorization": "Bearer rn_live_not-a-key-of-anyone"}
        return Call(
            "mihwar bad api key (401)", "GET", f"{self.BASE}/inventory/items?limit=5", frozenset({401}), headers
        )


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class Cpras:
    """PrintPLANR: renews its OAuth token, reads a supplier's context and reports order events,
    signed (now and then one with a wrong signature, or a hand-off code that is no code)."""

    BASE = "/cpras"
    SCOPES = ("sessions:consume", "supplier_context:read", "webhooks:write")

    def __init__(self, credentials: dict[str, Any]) -> None:
        demo = credentials["cpras"]
        self.client = basic(demo["client_id"], demo["client_secret"])
        self.webhook_secret = demo["webhook_secret"].encode()
        self.authorization = demo["authorization"]
        self.serial = itertools.count(1)
        self.run = uuid.uuid4().hex[:8]

    def auth(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def operations(self) -> list[Operation]:
        return [
            Operation("cpras token", 0.5, self.token),
            Operation("cpras supplier context", 8, self.supplier_context),
            Operation("cpras webhook", 6, self.webhook),
            Operation("cpras unknown supplier (404)", 0.5, self.unknown_supplier),
            Operation("cpras bad signature (403)", 0.5, self.bad_signature),
            Operation("cpras unknown session code (422)", 0.5, self.unknown_code),
        ]

    def token(self) -> Call:
        form = urlencode({"grant_type": "client_credentials", "scope": " ".join(self.SCOPES)})
        headers = {"Authorization": self.client, "Content-Type": "application/x-www-form-urlencoded"}
        return Call("cpras token", "POST", f"{self.BASE}/oauth/token", OK, headers, form.encode(), self.new_token)

    def new_token(self, answer: Any) -> None:
        self.authorization = f"Bearer {answer['access_token']}"

    def supplier_context(self) -> Call:
        path = f"{self.BASE}/v1/partners/printplanr/context/suppliers/sup_123"
        return Call("cpras supplier context", "GET", path, OK, self.auth())

    def event(self) -> bytes:
        serial = next(self.serial)
        kind = "order.created" if serial % 3 == 1 else RNG.choice(("order.updated", "order.completed"))
        return body_of(
            {
                "type": kind,
                "id": f"evt_soak_{self.run}_{serial}",
                "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "data": {
                    "order_id": f"pp_soak_{self.run}_{(serial - 1) // 3}",
                    "supplier_id": "sup_123",
                    "total": round(10 + serial % 500 * 1.25, 2),
                    "currency": "GBP",
                    "status": {"order.created": "pending", "order.updated": "in_production"}.get(kind, "completed"),
                },
            }
        )

    def webhook(self) -> Call:
        body = self.event()
        signature = "sha256=" + hmac.new(self.webhook_secret, body, hashlib.sha256).hexdigest()
        headers = {**self.auth(), **JSON, "X-PrintPlanr-Signature": signature}
        return Call("cpras webhook", "POST", f"{self.BASE}/v1/webhooks/printplanr", OK, headers, body)

    def unknown_supplier(self) -> Call:
        path = f"{self.BASE}/v1/partners/printplanr/context/suppliers/sup_nobody"
        return Call("cpras unknown supplier (404)", "GET", path, frozenset({404}), self.auth())

    def bad_signature(self) -> Call:
        headers = {**self.auth(), **JSON, "X-PrintPlanr-Signature": "sha256=" + "0" * 64}
        path = f"{self.BASE}/v1/webhooks/printplanr"
        return Call("cpras bad signature (403)", "POST", path, frozenset({403}), headers, self.event())

    def unknown_code(self) -> Call:
        headers = {**self.auth(), **JSON}
        path = f"{self.BASE}/v1/partners/printplanr/sessions/consume"
        body = body_of({"code": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("=")[:43]})
        return Call("cpras unknown session code (422)", "POST", path, frozenset({422}), headers, body)


class Scp:
    """A tenant's admin client: renews its token, lists and reads integrations, pushes a few
    records under the active contract and pulls a page, reads the exchange log."""

    BASE = "/scp"
    SCOPES = ("integrations:read", "data:push", "data:pull", "exchanges:read")

    def __init__(self, credentials: dict[str, Any]) -> None:
        admin = credentials["scp"]["riverside-admin"]
        self.client = basic(admin["client_id"], admin["client_secret"])
        self.authorization = admin["authorization"]
        self.integration = ""  # the active integration and its active contract, found by prepare
        self.contract = ""
        self.serial = itertools.count(1)

    def auth(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def prepare(self) -> Iterator[Call]:
        """Find the demo tenant's active integration, then its active contract."""
        active = f"{self.BASE}/integrations?status=active"
        yield Call("scp list integrations", "GET", active, OK, self.auth(), None, self.found_integration)
        integration = f"{self.BASE}/integrations/{self.integration}"  # set by the answer to the first
        yield Call("scp get integration", "GET", integration, OK, self.auth(), None, self.found_contract)

    def found_integration(self, page: Any) -> None:
        self.integration = page["items"][0]["integration_id"]

    def found_contract(self, integration: Any) -> None:
        self.contract = next(c["contract_id"] for c in integration["contracts"] if c["status"] == "active")

    def operations(self) -> list[Operation]:
        return [
            Operation("scp token", 0.5, self.token),
            Operation("scp list integrations", 5, self.list_integrations),
            Operation("scp get integration", 4, self.get_integration),
            Operation("scp pull data", 2.5, self.pull),
            Operation("scp push data", 1.5, self.push),
            Operation("scp list exchanges", 2, self.exchanges),
            Operation("scp unknown integration (404)", 0.5, self.unknown_integration),
            Operation("scp no token (401)", 0.5, self.no_token),
        ]

    def token(self) -> Call:
        form = urlencode({"grant_type": "client_credentials", "scope": " ".join(self.SCOPES)})
        headers = {"Authorization": self.client, "Content-Type": "application/x-www-form-urlencoded"}
        return Call("scp token", "POST", f"{self.BASE}/oauth/token", OK, headers, form.encode(), self.new_token)

    def new_token(self, answer: Any) -> None:
        self.authorization = f"Bearer {answer['access_token']}"

    def list_integrations(self) -> Call:
        return Call("scp list integrations", "GET", f"{self.BASE}/integrations?page=1&limit=10", OK, self.auth())

    def get_integration(self) -> Call:
        return Call("scp get integration", "GET", f"{self.BASE}/integrations/{self.integration}", OK, self.auth())

    def pull(self) -> Call:
        path = f"{self.BASE}/integrations/{self.integration}/data/pull?contract_id={self.contract}&format=json&limit=20"
        return Call("scp pull data", "GET", path, OK, self.auth())

    def push(self) -> Call:
        serial = next(self.serial)
        records = [
            {
                "beneficiary_ref": f"S-{serial}-{index}",
                "phone_number": f"+2547{serial % 100000:05d}{index:03d}",
                "national_id": f"{40000000 + serial * 10 + index}",
                "_consents": ["partner_data_sharing"],
            }
            for index in range(2)
        ]
        path = f"{self.BASE}/integrations/{self.integration}/data/push?contract_id={self.contract}"
        headers = {**self.auth(), **JSON, "Idempotency-Key": f"soak-{uuid.uuid4()}"}
        return Call("scp push data", "POST", path, frozenset({202}), headers, body_of({"payload": records}))

    def exchanges(self) -> Call:
        path = f"{self.BASE}/integrations/{self.integration}/exchanges?page=1&limit=10"
        return Call("scp list exchanges", "GET", path, OK, self.auth())

    def unknown_integration(self) -> Call:
        path = f"{self.BASE}/integrations/{uuid.uuid4()}"
        return Call("scp unknown integration (404)", "GET", path, frozenset({404}), self.auth())

    def no_token(self) -> Call:
        return Call("scp no token (401)", "GET", f"{self.BASE}/integrations?page=1&limit=10", frozenset({401}))


class Mix:
    """Every API's client, and the weighted choice of the next request (seeded: runs repeat)."""

    def __init__(self, credentials: dict[str, Any], seed: int = 1) -> None:
        self.order_accept = OrderAccept(credentials)
        self.idl = Idl(credentials)
        self.mihwar = Mihwar(credentials)
        self.cpras = Cpras(credentials)
        self.scp = Scp(credentials)
        apis = (self.order_accept, self.idl, self.mihwar, self.cpras, self.scp)
        self.operations = [operation for api in apis for operation in api.operations()]
        self.weights = [operation.weight for operation in self.operations]
        RNG.seed(seed)

    def preparation(self) -> Iterator[Call]:
        """Requests made once before the clock starts (their answers set up the clients)."""
        yield self.idl.prepare()
        yield from self.scp.prepare()

    def next_call(self) -> Call:
        (operation,) = RNG.choices(self.operations, self.weights)
        return operation.build()

    def shares(self) -> dict[str, float]:
        """Each API's share of the requests, by weight."""
        total = sum(self.weights)
        shares: dict[str, float] = {}
        for operation in self.operations:
            api = operation.label.split()[0]
            shares[api] = shares.get(api, 0.0) + operation.weight / total
        return shares
