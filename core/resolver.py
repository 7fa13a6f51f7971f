"""Binds camelCase operationIds (what SDK generators name methods after) to snake_case handlers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connexion.operations import AbstractOperation
from connexion.resolver import Resolver

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    return _BOUNDARY.sub("_", name).lower()


class PackageResolver(Resolver):
    """Resolves operationId `createOrder` to the function `<package>.create_order`.

    `wrap` decorates every resolved handler (with its unit of work, and for the fast
    request path with an inline coroutine), so the handlers themselves stay plain.
    """

    def __init__(self, package: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        super().__init__()
        self.package = package
        self.wrap = wrap

    def resolve_operation_id(self, operation: AbstractOperation) -> str:
        return f"{self.package}.{snake_case(operation.operation_id)}"

    def resolve_function_from_operation_id(self, operation_id: str) -> Callable[..., Any]:
        return self.wrap(super().resolve_function_from_operation_id(operation_id))
