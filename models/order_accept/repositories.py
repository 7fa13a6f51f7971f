"""Queries of the Order-Accept tables; the only place that speaks SQL for this API."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from core.repository import Repository
from models.order_accept.tables import Customer, Order, OrderItem, Product

_LISTED = (Product.is_active.is_(True), Product.is_soft_deleted.is_(False))
# Built once: statement construction costs more than the query itself on the hot path.
_ACTIVE_BY_EXTERNAL_ID = select(*Product.__table__.c).where(
    Product.external_product_id == bindparam("external_id"), *_LISTED
)


class ProductRepository(Repository):
    def page_active(self, offset: int, size: int) -> tuple[Sequence[Product], int]:
        """Active, non-deleted products ordered by name, and how many there are in all."""
        total = self.session.scalar(select(func.count()).select_from(Product).where(*_LISTED)) or 0
        items = self.session.scalars(
            select(Product)
            .where(*_LISTED)
            .order_by(Product.name, Product.external_product_id)
            .offset(offset)
            .limit(size)
        ).all()
        return items, total

    def get_active(self, external_product_id: str) -> Row[Any] | None:
        """The product's columns, read through Core: the API's hottest read skips the ORM."""
        return self.connection.execute(_ACTIVE_BY_EXTERNAL_ID, {"external_id": external_product_id}).first()

    def active_by_external_ids(self, external_ids: Collection[str]) -> dict[str, Product]:
        products = self.session.scalars(select(Product).where(Product.external_product_id.in_(external_ids), *_LISTED))
        return {product.external_product_id: product for product in products}


class CustomerRepository(Repository):
    def find(self, external_customer_id: str) -> Customer | None:
        return self.session.scalar(select(Customer).where(Customer.external_customer_id == external_customer_id))

    def get_or_create(self, external_customer_id: str) -> Customer:
        """The customer with this id, inserted first if missing; safe against concurrent first use."""
        customer = self.find(external_customer_id)
        if customer is not None:
            return customer
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(Customer)
            .values(external_customer_id=external_customer_id)
            .on_conflict_do_nothing(index_elements=[Customer.external_customer_id])
        )
        created = self.find(external_customer_id)
        assert created is not None, "the customer row exists after an upsert"
        return created


class OrderRepository(Repository):
    def page_for_customer(self, customer_id: int, offset: int, size: int) -> tuple[Sequence[Order], int]:
        """The customer's live orders, newest first, with their lines and products loaded."""
        owned = (Order.customer_id == customer_id, Order.is_soft_deleted.is_(False))
        total = self.session.scalar(select(func.count()).select_from(Order).where(*owned)) or 0
        orders = self.session.scalars(
            select(Order)
            .where(*owned)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset(offset)
            .limit(size)
            .options(selectinload(Order.items).joinedload(OrderItem.product))
        ).all()
        return orders, total

    def get_for_customer(self, order_id: int, customer_id: int) -> Order | None:
        return self.session.scalar(
            select(Order).where(
                Order.id == order_id, Order.customer_id == customer_id, Order.is_soft_deleted.is_(False)
            )
        )

    def find_by_idempotency_key(self, customer_id: int, key: str) -> Order | None:
        """The order a customer created with this key, deleted or not."""
        return self.session.scalar(select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key))

    def add(self, order: Order) -> Order:
        self.session.add(order)
        self.session.flush()
        return order
