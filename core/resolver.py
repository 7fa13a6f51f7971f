"""Binds camelCase operationIds (what SDK generators name methods after) to snake_case handlers."""

from __future__ import annotations

import re

from connexion.operations import AbstractOperation
from connexion.resolver import Resolver

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    return _BOUNDARY.sub("_", name).lower()


class PackageResolver(Resolver):
    """Resolves operationId `createOrder` to the function `<package>.create_order`."""

    def __init__(self, package: str) -> None:
        super().__init__()
        self.package = package

    def resolve_operation_id(self, operation: AbstractOperation) -> str:
        return f"{self.package}.{snake_case(operation.operation_id)}"
