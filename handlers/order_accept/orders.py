"""Order operations for the customer identified by the bearer token."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse

from core.problems import Forbidden
from core.responses import json_body, no_content
from core.unit_of_work import current_unit
from handlers.order_accept.dto import order_dto, orders_dto, page
from models.order_accept.ordering import OrderService, RequestedLine


def _require_user(user: str | None) -> str:
    if not user:
        raise Forbidden("The token carries no user identity claim (sub or nameidentifier).")
    return user


def list_orders(user: str | None, offset: int = 0, size: int = 12) -> tuple[Any, int, dict[str, str]]:
    """List the caller's orders, newest first."""
    orders, total = OrderService(current_unit()).list_for(_require_user(user), offset, size)
    return json_body(page(offset, size, total, orders_dto.dump(orders)))


def create_order(user: str | None, body: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
    """Place an order for the caller."""
    user_id = _require_user(user)
    lines = [RequestedLine(item["productId"], item["quantity"]) for item in body["items"]]
    idempotency_key = request.headers.get("Idempotency-Key")
    order = OrderService(current_unit()).place(user_id, lines, idempotency_key)
    return json_body(order_dto.dump(order), 201, {"Location": f"{request.url.path}/{order.id}"})


def delete_order(user: str | None, id: int) -> ConnexionResponse:  # noqa: A002 - the spec names it `id`
    """Soft-delete one of the caller's orders."""
    OrderService(current_unit()).delete(_require_user(user), id)
    return no_content()
