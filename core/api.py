"""The plug-in seam: one `Api` object per partner API gives the core everything it serves.

An API is its spec (`specs/`), its handlers (`handlers/<api>/`), its models
(`models/<api>/`) and its migrations. Its package declares one `API = Api(...)` naming
all of that plus what only it knows: its own settings, a verifier per security scheme,
its error format, middlewares, background jobs, demo data and credentials, commands, and
any browser pages it serves beside its spec.
The core loops over the APIs in the mount table (`handlers.APIS`) and names none of them,
so a new API plugs in without a change to `core/`.
"""

from __future__ import annotations

import argparse
import functools
import importlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import yaml

from core.config import Settings
from core.database import Database
from core.problems import Renderer, render_rfc9457

if TYPE_CHECKING:
    from core.jobs import Job
    from core.outbox import EventHandler
    from core.security import Verifier
    from core.unit_of_work import UnitOfWork

S = TypeVar("S")
MOUNT_TABLE = "handlers"  # the package whose `APIS` lists the modules declaring each `API`
DEFAULT_BODY_LIMIT = 1024 * 1024

Middleware = tuple[type[Any], dict[str, Any]]


class DemoClient(Protocol):
    """How a well-behaved client of one API authenticates each call: for the contract and
    hardening tests, which call every operation as a real client would."""

    def headers_for(self, operation_id: str | None) -> dict[str, str]: ...

    def renew(self) -> None:
        """Start over as a new client (a stateful contract run begins with a clean slate)."""


@dataclass(frozen=True)
class Mounted(Generic[S]):
    """One API as an app or a command serves it: its declaration, the settings and the database."""

    api: Api[S]
    settings: Settings
    database: Database

    @property
    def config(self) -> S:
        """The API's own settings."""
        return self.api.config(self.settings)

    @property
    def document(self) -> dict[str, Any]:
        """The API's spec as served: as written (not dereferenced), with only the operations it serves."""
        return self.api.served_document(self.settings)


@functools.cache
def _load_document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


@functools.cache
def _served_document(path: Path, operations: frozenset[str] | None) -> dict[str, Any]:
    document = _load_document(path)
    return document if operations is None else only_operations(document, operations)


def _nothing(_mounted: Mounted[Any]) -> Sequence[Any]:
    return ()


def _no_verifiers(_mounted: Mounted[Any]) -> Mapping[str, Verifier]:
    return {}


def _no_settings(_env: Mapping[str, str], _instance_dir: Path) -> None:
    return None


def _no_body_limits(_config: Any) -> Mapping[str, int]:
    return {}


BodyCheck = Callable[[Any], None]
"""Looks at a parsed JSON body before its schema does, raising an `ApiProblem` to refuse it."""


def only_operations(document: Mapping[str, Any], operation_ids: Collection[str]) -> dict[str, Any]:
    """`document` with only the operations named (a path left with none is left out), and
    without the response links to the operations left out."""
    paths: dict[str, Any] = {}
    for template, item in document.get("paths", {}).items():
        kept = {
            key: _without_links_out(value, operation_ids)
            if isinstance(value, dict) and "operationId" in value
            else value
            for key, value in item.items()
            if not isinstance(value, dict) or "operationId" not in value or value["operationId"] in operation_ids
        }
        if any(isinstance(value, dict) and "operationId" in value for value in kept.values()):
            paths[template] = kept
    return {**document, "paths": paths}


def _without_links_out(operation: Mapping[str, Any], operation_ids: Collection[str]) -> dict[str, Any]:
    responses = {}
    for status, response in operation.get("responses", {}).items():
        if isinstance(response, dict) and "links" in response:
            links = {
                name: link
                for name, link in response["links"].items()
                if "operationId" not in link or link["operationId"] in operation_ids
            }
            response = {key: value for key, value in response.items() if key != "links"}
            if links:
                response["links"] = links
        responses[status] = response
    return {**operation, "responses": responses}


@dataclass(frozen=True)
class Api(Generic[S]):
    """Everything the core needs to serve one API; each field says which part of it is whose."""

    name: str  # short, snake_case: names its settings, rate-limit keys, commands, demo data
    prefix: str  # where it is served, e.g. "/partner/api/v1"
    spec: str  # its spec's file name in the spec directory
    handlers: str  # the package whose functions answer its operations (createOrder -> create_order)
    # Its own settings, read from the environment: (environment, instance directory) -> settings.
    settings: Callable[[Mapping[str, str], Path], S] = _no_settings  # type: ignore[assignment]
    # One verifier per securityScheme name of its spec.
    security: Callable[[Mounted[S]], Mapping[str, Verifier]] = _no_verifiers
    render_problem: Renderer = render_rfc9457  # its error format
    models: tuple[str, ...] = ()  # modules declaring its tables
    migrations: Path | None = None  # an Alembic version directory of its own, beside migrations/versions
    # ASGI middlewares in front of its operations (rate limits, say), as (class, options).
    middlewares: Callable[[Mounted[S]], Sequence[Middleware]] = _nothing
    jobs: Callable[[Mounted[S]], Sequence[Job]] = _nothing  # what `partner-gateway worker` runs for it
    event_handlers: Mapping[str, EventHandler] = field(default_factory=dict)  # outbox events it consumes
    # Request bodies larger than this answer 413 before they are read; per operation id below.
    body_limit: int = DEFAULT_BODY_LIMIT
    body_limits: Callable[[S], Mapping[str, int]] = _no_body_limits
    # Checks of a parsed JSON body run before schema validation, by operation id: for a rule
    # whose answer must win over the schema's 400 (too many lines answering 413, say).
    body_checks: Mapping[str, BodyCheck] = field(default_factory=dict)
    # The operation ids served so far, when not all of the spec's: the others are left out
    # of routing and of the served spec (they answer 404) until their handlers exist.
    operations: frozenset[str] | None = None
    load_demo: Callable[[UnitOfWork, S], bool] | None = None  # True when it loaded into empty tables
    demo_credentials: Callable[[Mounted[S]], Mapping[str, Any]] | None = None
    demo_client: Callable[[Mounted[S]], DemoClient] | None = None
    # Documented answers that depend on state a schema cannot state, by operation id (contract tests).
    state_dependent_statuses: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Adds its subcommands to `partner-gateway <name>`; each sets `run(args, mounted) -> exit code`.
    commands: Callable[[argparse.ArgumentParser], None] | None = None
    # Browser pages it serves beside its operations, outside its spec (server-rendered HTML):
    # (their path under its prefix, an ASGI app for them), mounted as core/pages.py says.
    pages: Callable[[Mounted[S]], tuple[str, Any]] | None = None

    def spec_path(self, settings: Settings) -> Path:
        return settings.spec_dir / self.spec

    def written_document(self, settings: Settings) -> dict[str, Any]:
        """The spec as written, every operation in it (not dereferenced)."""
        return _load_document(self.spec_path(settings))

    def served_document(self, settings: Settings) -> dict[str, Any]:
        """The spec as written (not dereferenced), with only the operations this API serves."""
        return _served_document(self.spec_path(settings), self.operations)

    def serves(self, operation_id: str) -> bool:
        return self.operations is None or operation_id in self.operations

    def is_available(self, settings: Settings) -> bool:
        """Mounted only once its spec exists, so a spec can be removed without breaking the service."""
        return self.spec_path(settings).exists()

    def config(self, settings: Settings) -> S:
        """This API's own settings, as `configure` read them."""
        try:
            config: S = settings.apis[self.name]
        except KeyError:
            raise LookupError(f"the settings of API {self.name!r} were not read; use core.api.configure") from None
        return config

    def body_limit_of(self, settings: Settings, operation_id: str) -> int:
        return self.body_limits(self.config(settings)).get(operation_id, self.body_limit)


def registered(table: str = MOUNT_TABLE) -> list[Api[Any]]:
    """The APIs the mount table lists, in its order."""
    names: Sequence[str] = importlib.import_module(table).APIS
    return [importlib.import_module(name).API for name in names]


def configure(settings: Settings, apis: Sequence[Api[Any]]) -> Settings:
    """`settings` with every API's own settings read, except those already given."""
    missing = {
        api.name: api.settings(settings.environ, settings.instance_dir) for api in apis if api.name not in settings.apis
    }
    return replace(settings, apis={**settings.apis, **missing}) if missing else settings


def mounted(settings: Settings, apis: Sequence[Api[Any]] | None = None) -> list[Api[Any]]:
    """The APIs to serve: those of the mount table (or `apis`) whose spec exists."""
    return [api for api in (registered() if apis is None else apis) if api.is_available(settings)]
