"""The tiny API as the core serves it: everything an API declares, in one object."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connexion.lifecycle import ConnexionRequest, ConnexionResponse

from core.api import Api, Mounted
from core.jobs import Job, JobContext
from core.outbox import Event
from core.problems import Problem, Unauthorized
from core.security import TokenPrincipal, Verifier
from core.unit_of_work import UnitOfWork

RECEIVED: list[Event] = []  # what the tiny API's event handler saw, for the tests to read
TICKS: list[int] = []


def reader(credential: str, request: ConnexionRequest) -> TokenPrincipal:
    """`reader-<name>` tokens: a subject, no scopes."""
    if not credential.startswith("reader-"):
        raise Unauthorized("Not a reader token.")
    return TokenPrincipal(credential.removeprefix("reader-"))


def client(credential: str, request: ConnexionRequest) -> TokenPrincipal:
    """`client-<scope>+<scope>` tokens grant those scopes; `client-admin` also the notes:purge permission."""
    if not credential.startswith("client-"):
        raise Unauthorized("Not a client token.")
    name = credential.removeprefix("client-")
    permissions = frozenset({"notes:purge"}) if name == "admin" else frozenset()
    return TokenPrincipal(name, scopes=frozenset(name.split("+")), permissions=permissions)


def security(mounted: Mounted[None]) -> Mapping[str, Verifier]:
    return {"readerToken": reader, "clients": client}


def render_problem(problem: Problem, request: ConnexionRequest) -> ConnexionResponse:
    body = {"tiny": True, "status": problem.status, "detail": problem.detail, "errors": problem.errors}
    return ConnexionResponse(
        status_code=problem.status,
        mimetype="application/problem+json",
        body=json.dumps(body),
        headers=dict(problem.headers),
    )


def remember(unit: UnitOfWork, event: Event) -> None:
    RECEIVED.append(event)


def jobs(mounted: Mounted[None]) -> Sequence[Job]:
    def tick(context: JobContext) -> int:
        TICKS.append(len(TICKS))
        return 0

    return [Job("tiny-tick", tick, interval=60)]


def demo_credentials(mounted: Mounted[None]) -> dict[str, Any]:
    return {"reader": {"authorization": "Bearer reader-demo"}}


API: Api[None] = Api(
    name="tiny",
    prefix="/tiny",
    spec="tiny.yaml",
    handlers="tinyapi",
    security=security,
    render_problem=render_problem,
    models=("tinyapi.tables",),
    migrations=Path(__file__).resolve().parent / "migrations",
    jobs=jobs,
    event_handlers={"note.created": remember},
    body_limit=4096,
    body_limits=lambda _config: {"createNote": 256},
    demo_credentials=demo_credentials,
)
