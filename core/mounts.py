"""The fixed mount table: which spec is served under which prefix, by which handlers.

An API is mounted only when both its spec and its handler package exist, so a spec can
land (and be linted and fuzzed) before its implementation, without failing requests.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.config import Settings
from core.database import Database
from core.problems import Renderer


@dataclass(frozen=True)
class Mount:
    name: str
    spec: str
    prefix: str
    handlers: str

    def spec_path(self, settings: Settings) -> Path:
        return settings.spec_dir / self.spec

    def document(self, settings: Settings) -> dict[str, Any]:
        document: dict[str, Any] = yaml.safe_load(self.spec_path(settings).read_text())
        return document

    def is_available(self, settings: Settings) -> bool:
        return self.spec_path(settings).exists() and importlib.util.find_spec(self.handlers) is not None

    def api_module(self) -> Any:
        """The handler package's `api` module: its renderer and its security handlers."""
        return importlib.import_module(f"{self.handlers}.api")

    def renderer(self) -> Renderer:
        renderer: Renderer = self.api_module().render_problem
        return renderer

    def security_map(self, settings: Settings, database: Database) -> dict[str, Any]:
        build: Callable[[Settings, Database], dict[str, Any]] = self.api_module().security_map
        return build(settings, database)

    def middlewares(self, settings: Settings) -> list[tuple[type[Any], dict[str, Any]]]:
        """ASGI middlewares the API adds in front of its operations (optional `middlewares` hook)."""
        build: Callable[[Settings, Mount], list[tuple[type[Any], dict[str, Any]]]] | None = getattr(
            self.api_module(), "middlewares", None
        )
        return build(settings, self) if build else []


MOUNTS: tuple[Mount, ...] = (
    Mount("order_accept", "order_accept.yaml", "/order-accept", "handlers.order_accept"),
    Mount("idl", "idl.yaml", "/idl/api/v1", "handlers.idl"),
    Mount("mihwar", "mihwar.yaml", "/mihwar", "handlers.mihwar"),
    Mount("cpras", "cpras.yaml", "/cpras", "handlers.cpras"),
    Mount("scp", "scp.yaml", "/scp", "handlers.scp"),
)
