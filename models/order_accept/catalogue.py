"""The product catalogue: what customers may order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from core.problems import NotFound
from core.unit_of_work import UnitOfWork
from models.order_accept.repositories import ProductRepository
from models.order_accept.tables import Product


class Catalogue:
    def __init__(self, unit: UnitOfWork) -> None:
        self.products = ProductRepository(unit)

    def page(self, offset: int, size: int) -> tuple[Sequence[Product], int]:
        """Active products, by name, and how many there are in all."""
        return self.products.page_active(offset, size)

    def product(self, external_id: str) -> Row[Any]:
        """An active product by its external id; 404 for one that is missing, inactive or deleted."""
        product = self.products.get_active(external_id)
        if product is None:
            raise NotFound(f"Product {external_id} was not found.")
        return product
