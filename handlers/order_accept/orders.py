"""Order operations for the customer identified by the bearer token."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse

from core.problems import Forbidden
from core.responses import Json, created, json_body, location, no_content
from core.security import TokenPrincipal
from core.unit_of_work import current_unit
from handlers.order_accept.dto import order_dto, orders_dto, page
from models.order_accept.ordering import OrderService, RequestedLine


def _customer(principal: TokenPrincipal) -> str:
    """The customer a token stands for: its user id claim, which orders need."""
    if not principal.subject:
        raise Forbidden("The token carries no user identity claim (sub or nameidentifier).")
    return principal.subject


def list_orders(principal: TokenPrincipal, offset: int = 0, size: int = 12) -> Json:
    """List the caller's orders, newest first."""
    orders, total = OrderService(current_unit()).list_for(_customer(principal), offset, size)
    return json_body(page(offset, size, total, orders_dto.dump(orders)))


def create_order(principal: TokenPrincipal, body: dict[str, Any]) -> Json:
    """Place an order for the caller."""
    lines = [RequestedLine(item["productId"], item["quantity"]) for item in body["items"]]
    idempotency_key = request.headers.get("Idempotency-Key")
    order = OrderService(current_unit()).place(_customer(principal), lines, idempotency_key)
    return created(order_dto.dump(order), location("/api/orders/{id}", id=order.id))


def delete_order(principal: TokenPrincipal, id: int) -> ConnexionResponse:  # noqa: A002 - the spec names it `id`
    """Soft-delete one of the caller's orders."""
    OrderService(current_unit()).delete(_customer(principal), id)
    return no_content()
